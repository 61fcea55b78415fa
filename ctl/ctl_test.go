package ctl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/ctl"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

var discard = slog.New(slog.DiscardHandler)

// syncBuffer is written by a running command while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run executes inventoryctl with args as a user would, returning its output.
func run(ctx context.Context, args ...string) (string, error) {
	var out syncBuffer
	root := ctl.NewRoot(&out, discard)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(context.Background(), args...)
	if err != nil {
		t.Fatalf("inventoryctl %s: %v (output %q)", strings.Join(args, " "), err, out)
	}
	return out
}

func TestAdjustReserveGetPartitions(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	calc, _ := sys.StartCalculator(t, nil, nil)
	e := sys.API(discard)
	api.RegisterStatus(e, "/calculator/status", func(context.Context) any { return calc.Status() })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	url := "--url=" + srv.URL

	out := mustRun(t, url, "adjust", "STL", "12 31", "100", "--key", "restock-1")
	if !strings.Contains(out, "stored in INVENTORY seq 1") || strings.Contains(out, "duplicate") {
		t.Fatalf("adjust: %q", out)
	}
	if out := mustRun(t, url, "adjust", "STL", "12 31", "100", "--key", "restock-1"); !strings.Contains(out, "duplicate") {
		t.Fatalf("adjust with the same key again: %q, want a duplicate", out)
	}
	mustRun(t, url, "reserve", "STL", "12 31", "10")
	poll.Until(t, 10*time.Second, "get shows both commands", func() error {
		out, err := run(context.Background(), url, "get", "STL", "12 31")
		if err != nil {
			return err
		}
		if !strings.Contains(out, `location="STL" sku="12 31" sellable=90 adjusted=100 reserved=10 seq=2`) {
			return fmt.Errorf("get: %q", out)
		}
		return nil
	})
	if _, err := run(context.Background(), url, "adjust", "STL", "1", "x"); err == nil {
		t.Fatal("adjust with a non-integer count: no error")
	}
	if out, err := run(context.Background(), url, "get", "STL", "nothing"); !errors.Is(err, ctl.ErrHTTP) {
		t.Fatalf("get of an unknown SKU: %q, %v; want ErrHTTP", out, err)
	}
	poll.Until(t, 10*time.Second, "partitions shows all owned", func() error {
		out := mustRun(t, url, "partitions")
		if !strings.Contains(out, "owns 4 of 4 partitions") || !strings.Contains(out, "\n3\t") {
			return fmt.Errorf("partitions: %q", out)
		}
		return nil
	})
}

// publishDeadLetter stores a hand-made dead letter, as the calculator
// would write one, and returns its sequence.
func publishDeadLetter(t *testing.T, sys *systemtest.System, m *nats.Msg) uint64 {
	t.Helper()
	ack, err := sys.JS.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

func eventCount(t *testing.T, sys *systemtest.System) uint64 {
	t.Helper()
	s, err := sys.JS.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestDLQListShowReplay(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	sys.StartCalculator(t, nil, nil)
	natsURL := "--nats-url=" + sys.ClientURL()
	ctx := context.Background()
	key := sellable.Key{LocationID: "STL", SKU: "123"}

	// A malformed event, published by hand, is dead-lettered.
	bad := []byte(`{"locationId":"STL","sku":"123","count":`)
	m := natsMsg(streams.EventSubject(sellable.Adjustment, key), bad)
	m.Header.Set("X-Trace", "t-1")
	if _, err := sys.JS.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	stored := streams.StoredEventSubject(sellable.Adjustment, streams.Partition(key, 4), key)
	poll.Until(t, 10*time.Second, "dlq list shows the dead letter", func() error {
		out := mustRun(t, natsURL, "dlq", "list")
		if !strings.HasPrefix(out, "1\t") || !strings.Contains(out, stored) {
			return fmt.Errorf("dlq list: %q", out)
		}
		return nil
	})
	out := mustRun(t, natsURL, "dlq", "show", "1")
	for _, want := range []string{streams.HeaderError + ": ", streams.HeaderOrigSubject + ": " + stored, streams.HeaderOrigSeq + ": 1", "X-Trace: t-1", fmt.Sprintf("%q", bad)} {
		if !strings.Contains(out, want) {
			t.Errorf("dlq show: no %q in %q", want, out)
		}
	}

	// Replayed twice, it is stored once, on the subject it was published
	// to, with its body and application headers but none of the dead
	// letter's own.
	if out := mustRun(t, natsURL, "dlq", "replay", "1"); !strings.Contains(out, "replayed: stored in INVENTORY seq 2") {
		t.Fatalf("dlq replay: %q", out)
	}
	if out := mustRun(t, natsURL, "dlq", "replay", "1"); !strings.Contains(out, "already replayed") {
		t.Fatalf("dlq replay again: %q", out)
	}
	if n := eventCount(t, sys); n != 2 {
		t.Fatalf("events after two replays: %d, want 2", n)
	}
	s, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.GetMsg(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != stored || !bytes.Equal(r.Data, bad) || r.Header.Get("X-Trace") != "t-1" ||
		r.Header.Get(nats.MsgIdHdr) != "dlq-replay-1" || r.Header.Get(streams.HeaderError) != "" || r.Header.Get(streams.HeaderOrigSeq) != "" {
		t.Fatalf("replayed message: %s %q %v", r.Subject, r.Data, r.Header)
	}

	// A dead letter whose cause is fixed (here: a body that is now
	// valid) is applied once when replayed.
	good := natsMsg(streams.DeadLetterSubject(streams.Partition(key, 4)), []byte(`{"locationId":"STL","sku":"123","count":7}`))
	good.Header.Set(streams.HeaderError, "decode: schema not found")
	good.Header.Set(streams.HeaderOrigSubject, stored)
	good.Header.Set(streams.HeaderOrigSeq, "99")
	seq := publishDeadLetter(t, sys, good)
	for range 2 {
		mustRun(t, natsURL, "dlq", "replay", fmt.Sprint(seq))
	}
	poll.Until(t, 10*time.Second, "replayed adjustment applied", func() error {
		p, err := sys.View.Get(ctx, key.LocationID, key.SKU)
		if err != nil {
			return err
		}
		if p.OnHand != 7 {
			return fmt.Errorf("adjusted %d, want 7", p.OnHand)
		}
		return nil
	})
	if n := eventCount(t, sys); n != 3 {
		t.Fatalf("events after replaying the fixed dead letter twice: %d, want 3", n)
	}

	// A truncated dead letter is not the original: refused, nothing stored.
	cut := natsMsg(streams.DeadLetterSubject(0), []byte(`{"locationId":"STL","sku":"123","cou`))
	cut.Header.Set(streams.HeaderError, "message too large")
	cut.Header.Set(streams.HeaderOrigSubject, stored)
	cut.Header.Set(streams.HeaderOrigSeq, "100")
	cut.Header.Set(streams.HeaderTruncated, "body")
	cut.Header.Set(streams.HeaderOrigSize, "1048576")
	seq = publishDeadLetter(t, sys, cut)
	if out := mustRun(t, natsURL, "dlq", "list", "--from", fmt.Sprint(seq)); !strings.Contains(out, "truncated: body") {
		t.Errorf("dlq list of a truncated dead letter: %q", out)
	}
	if out, err := run(ctx, natsURL, "dlq", "replay", fmt.Sprint(seq)); !errors.Is(err, ctl.ErrTruncated) {
		t.Fatalf("replay of a truncated dead letter: %q, %v; want ErrTruncated", out, err)
	}
	if n := eventCount(t, sys); n != 3 {
		t.Fatalf("events after refusing a truncated dead letter: %d, want 3", n)
	}
}

func natsMsg(subject string, data []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = data
	return m
}

func TestWatchPrintsChanges(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	sys.StartCalculator(t, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	root := ctl.NewRoot(&out, discard)
	root.SetArgs([]string{"--nats-url", sys.ClientURL(), "watch", "--location", "STL"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	// Commands only once watch has subscribed, so that it sees them.
	subject := ctl.WatchSubject("STL", "")
	poll.Until(t, 10*time.Second, "watch subscribed", func() error {
		cz, err := sys.Server.Connz(&server.ConnzOptions{Subscriptions: true})
		if err != nil {
			return err
		}
		for _, c := range cz.Conns {
			if c.Name == "inventoryctl" && contains(c.Subs, subject) {
				return nil
			}
		}
		return fmt.Errorf("no inventoryctl subscription to %s", subject)
	})
	for _, k := range []sellable.Key{{LocationID: "ATL", SKU: "9"}, {LocationID: "STL", SKU: "9"}} {
		if _, err := sys.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: k.LocationID, SKU: k.SKU, Count: 5}); err != nil {
			t.Fatal(err)
		}
	}
	poll.Until(t, 10*time.Second, "watch prints the change", func() error {
		if !strings.Contains(out.String(), `location="STL" sku="9" sellable=5 adjusted=5 reserved=0 seq=`) {
			return fmt.Errorf("watch output: %q", out.String())
		}
		return nil
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("watch after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when its context ended")
	}
	if strings.Contains(out.String(), "ATL") {
		t.Errorf("watch --location STL printed another location: %q", out.String())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestAdminPlanIsInventoryAdmin(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	// Four partitions where the settings say the default eight: the same
	// refusal that `inventory admin apply` gives.
	out, err := run(context.Background(), "admin", "apply", "--nats-url", sys.ClientURL())
	if !errors.Is(err, streams.ErrPartitionCount) {
		t.Fatalf("admin apply with another partition count: %q, %v; want ErrPartitionCount", out, err)
	}
	out = mustRun(t, "admin", "plan", "--nats-url", sys.ClientURL(), "--partitions", "4")
	if !strings.Contains(out, "nothing to change") && !strings.Contains(out, "change(s)") {
		t.Fatalf("admin plan: %q", out)
	}
	if _, err := run(context.Background(), "admin", "plan", "-h"); err != nil {
		t.Fatalf("admin plan -h: %v, want its help and no error", err)
	}
}
