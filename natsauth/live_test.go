package natsauth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/feed/jsfeed"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Every query program serves what operators watch (app.RegisterLive)
// under its own role: the calculator and sellable-service, whose role
// is the projector's. The feed reads each view bucket's stream through
// ordered consumers (a resuming subscriber's replay and the hub's live
// consumers), which it creates, pulls, flow-controls and deletes; the
// dead letters are read back by sequence. A right the roles lack shows
// as a permission violation or a feed that never delivers.
func TestQueryProgramsServeTheLiveAPIUnderTheirRoles(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	anc, ajs, _ := d.connect(t, natsauth.Admin)
	part := streams.Partition(key, topology.Partitions)
	put := func(count int64) {
		t.Helper()
		v, err := kv.EncodeValue(sellable.Position{LocationID: key.LocationID, SKU: key.SKU, Count: count, OnHand: count, Seq: uint64(count)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ajs.Publish(ctx, kv.Subject(part, key), v); err != nil {
			t.Fatal(err)
		}
	}
	put(1)
	dl := nats.NewMsg(streams.DeadLetterSubject(part))
	dl.Data = []byte(`{"count":"many"}`)
	dl.Header.Set(streams.HeaderError, "roles test")
	if _, err := ajs.PublishMsg(ctx, dl); err != nil {
		t.Fatal(err)
	}
	if err := anc.Flush(); err != nil {
		t.Fatal(err)
	}

	newest := int64(1)
	for _, role := range []natsauth.Role{natsauth.Projector, natsauth.Calculator} {
		t.Run(string(role), func(t *testing.T) {
			nc, js, v := d.connect(t, role)
			cfg := jsfeed.DefaultConfig()
			cfg.Logger = logtest.New().Logger()
			src, err := jsfeed.NewSource(js, cfg)
			if err != nil {
				t.Fatal(err)
			}
			n, err := src.Partitions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sctx, stop := context.WithTimeout(ctx, 20*time.Second)
			// From the start: a replay of every partition (the newest
			// value of the key), then live.
			sub, err := src.Subscribe(sctx, feed.Filter{LocationID: key.LocationID}, feed.Start(n))
			if err != nil {
				t.Fatal(err)
			}
			next := func(want int64) {
				t.Helper()
				got, err := sub.Next(ctx, make([]feed.Change, 0, 1), 20*time.Second)
				if err != nil || len(got) != 1 || got[0].Position.Count != want {
					t.Fatalf("changes %+v, %v; want count %d (violations: %v)", got, err, want, v.list())
				}
			}
			next(newest)
			newest++
			put(newest)
			next(newest)
			// The subscription's end deletes its consumers.
			stop()
			poll.Until(t, 10*time.Second, "the subscription closed", func() error {
				if o := src.Stats().Open; o != 0 {
					return fmt.Errorf("%d subscriptions open", o)
				}
				return nil
			})

			// A request the role may not make goes unanswered: bounded,
			// so that a missing right fails here and not at the deadline.
			lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
			dls, _, err := jsfeed.NewDeadLetters(js).List(lctx, 0, 10)
			lcancel()
			if err != nil || len(dls) != 1 || dls[0].Reason != "roles test" {
				t.Fatalf("dead letters %+v, %v (violations: %v)", dls, err, v.list())
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			if errs := v.list(); len(errs) > 0 {
				t.Fatalf("permission violations: %v", errs)
			}
		})
	}
}
