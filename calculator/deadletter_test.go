package calculator_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// deadLetter waits for the dead letter of the event stored at seq.
func (e *env) deadLetter(t *testing.T, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	dlq, err := e.JS.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	var found *jetstream.RawStreamMsg
	poll.Until(t, 10*time.Second, fmt.Sprintf("dead letter of seq %d", seq), func() error {
		info, err := dlq.Info(ctx)
		if err != nil {
			return err
		}
		for s := info.State.FirstSeq; s <= info.State.LastSeq && info.State.Msgs > 0; s++ {
			m, err := dlq.GetMsg(ctx, s)
			if err != nil {
				return err
			}
			if m.Header.Get(streams.HeaderOrigSeq) == strconv.FormatUint(seq, 10) {
				found = m
				return nil
			}
		}
		return fmt.Errorf("not among %d dead letters", info.State.Msgs)
	})
	return found
}

// wantCheckpoint waits until the checkpoint of k's partition reaches seq.
func (e *env) wantCheckpoint(t *testing.T, k sellable.Key, seq uint64) {
	t.Helper()
	ctx := context.Background()
	offsets, err := e.JS.KeyValue(ctx, "calculator_offsets")
	if err != nil {
		t.Fatal(err)
	}
	p := streams.Partition(k, partitions)
	poll.Until(t, 10*time.Second, fmt.Sprintf("checkpoint of partition %d", p), func() error {
		en, err := offsets.Get(ctx, "p"+strconv.Itoa(p))
		if err != nil {
			return err
		}
		if have, _ := strconv.ParseUint(string(en.Value()), 10, 64); have < seq {
			return fmt.Errorf("at %d, want %d", have, seq)
		}
		return nil
	})
}

// A malformed event may carry any header a publisher can set, including
// those that tell JetStream how to store a message. Copied onto its dead
// letter they would make that publish fail (Nats-Expected-Stream: INVENTORY
// on INVENTORY_DLQ is error 10060), and the partition would retry the same
// batch forever. Each such header must land on the dead letter only under
// another name, and the partition must go on.
func TestDeadLetterDoesNotCopyJetStreamPublishHeaders(t *testing.T) {
	e := setup(t)
	e.startCalculator(t, "c1")
	stored := e.publishWithEveryNATSHeader(t)
	if stored[0] != "Nats-Expected-Stream" {
		t.Fatalf("the Nats-Expected-Stream case was not stored; the test proves nothing")
	}
}

// The same on an INVENTORY that allows every per-message feature, as it
// may once reservations use atomic batches and schedules: then rollups,
// TTLs, schedules and batches are stored too, and their dead letters must
// land all the same.
func TestDeadLetterDoesNotCopyJetStreamPublishHeadersWhenAllowed(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	s, err := e.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.AllowRollup, cfg.AllowMsgTTL, cfg.AllowMsgSchedules, cfg.AllowAtomicPublish = true, true, true, true
	cfg.Discard = jetstream.DiscardOld // the server refuses schedules on a DiscardNew stream (10052)
	if _, err := e.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	e.startCalculator(t, "c1")
	stored := e.publishWithEveryNATSHeader(t)
	for _, want := range []string{"Nats-Rollup", "Nats-TTL", "Nats-Schedule", "Nats-Batch-*"} {
		if !slices.Contains(stored, want) {
			t.Errorf("%s was not stored though INVENTORY allows it", want)
		}
	}
}

// publishWithEveryNATSHeader publishes, for each header a publisher can
// set, a malformed event carrying it between two valid events of its
// key, then checks that every one stored was dead-lettered with the NATS
// headers renamed and that its partition went on. It returns the names of
// the cases INVENTORY stored.
func (e *env) publishWithEveryNATSHeader(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	// Put INVENTORY's sequences well above INVENTORY_DLQ's, so that an
	// expectation about one stream can never hold by chance on the other.
	for range 20 {
		e.record(t, sellable.Adjustment, "HDR", "warmup", 1)
	}
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	// Each case gets the key it is published on, the sequence and message
	// id of the event stored just before it on that key (the last of the
	// stream, too), and returns the headers of the malformed event.
	cases := []struct {
		name string
		hdr  func(k sellable.Key, prev uint64, prevID string) nats.Header
	}{
		{"Nats-Expected-Stream", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Expected-Stream": {streams.EventStream}}
		}},
		{"Nats-Expected-Last-Sequence", func(_ sellable.Key, prev uint64, _ string) nats.Header {
			return nats.Header{"Nats-Expected-Last-Sequence": {strconv.FormatUint(prev, 10)}}
		}},
		{"Nats-Expected-Last-Subject-Sequence", func(_ sellable.Key, prev uint64, _ string) nats.Header {
			return nats.Header{"Nats-Expected-Last-Subject-Sequence": {strconv.FormatUint(prev, 10)}}
		}},
		{"Nats-Expected-Last-Subject-Sequence-Subject", func(k sellable.Key, prev uint64, _ string) nats.Header {
			return nats.Header{
				"Nats-Expected-Last-Subject-Sequence":         {strconv.FormatUint(prev, 10)},
				"Nats-Expected-Last-Subject-Sequence-Subject": {"inventory.*.*." + k.LocationID + "." + k.SKU},
			}
		}},
		{"Nats-Expected-Last-Msg-Id", func(_ sellable.Key, _ uint64, prevID string) nats.Header {
			return nats.Header{"Nats-Expected-Last-Msg-Id": {prevID}}
		}},
		{"Nats-Msg-Id", func(k sellable.Key, _ uint64, _ string) nats.Header {
			return nats.Header{"Nats-Msg-Id": {"bad-" + k.SKU}}
		}},
		{"Nats-Rollup", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Rollup": {"sub"}}
		}},
		{"Nats-TTL", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-TTL": {"1h"}}
		}},
		{"Nats-Incr", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Incr": {"1"}}
		}},
		{"Nats-Schedule", func(k sellable.Key, _ uint64, _ string) nats.Header {
			return nats.Header{
				"Nats-Schedule":        {"@at " + future},
				"Nats-Schedule-Target": {streams.EventSubject(sellable.Reservation, k)},
			}
		}},
		{"Nats-Schedule-TTL", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Schedule-TTL": {"1h"}}
		}},
		{"Nats-Schedule-Source", func(k sellable.Key, _ uint64, _ string) nats.Header {
			return nats.Header{"Nats-Schedule-Source": {streams.EventSubject(sellable.Adjustment, k)}}
		}},
		{"Nats-Schedule-Time-Zone", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Schedule-Time-Zone": {"Europe/Paris"}}
		}},
		{"Nats-Schedule-Rollup", func(sellable.Key, uint64, string) nats.Header {
			return nats.Header{"Nats-Schedule-Rollup": {"sub"}}
		}},
		{"Nats-Batch-*", func(k sellable.Key, _ uint64, _ string) nats.Header {
			return nats.Header{"Nats-Batch-Id": {"b-" + k.SKU}, "Nats-Batch-Sequence": {"1"}, "Nats-Batch-Commit": {"1"}}
		}},
	}
	type stored struct {
		key  sellable.Key
		seq  uint64
		hdr  nats.Header
		good uint64 // the valid event stored after it
	}
	var kept []stored
	var names []string
	for i, c := range cases {
		k := sellable.Key{LocationID: "HDR", SKU: "k" + strconv.Itoa(i)}
		subject := streams.EventSubject(sellable.Adjustment, k)
		prevID := "good-" + k.SKU
		ack, err := e.JS.Publish(ctx, subject, []byte(`{"count":1}`), jetstream.WithMsgID(prevID))
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(subject)
		m.Data = []byte(`not an event`)
		m.Header = c.hdr(k, ack.Sequence, prevID)
		bad, err := e.JS.PublishMsg(ctx, m)
		if err != nil {
			// INVENTORY does not allow what the header asks for (rollups,
			// per-message TTLs, counters, schedules, atomic batches), so
			// nothing malformed can be stored with it.
			t.Logf("%s: not stored by %s: %v", c.name, streams.EventStream, err)
			continue
		}
		good := e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 2)
		kept = append(kept, stored{key: k, seq: bad.Sequence, hdr: m.Header, good: good})
		names = append(names, c.name)
		t.Logf("%s: stored at %d", c.name, bad.Sequence)
	}
	for _, s := range kept {
		e.wantApplied(t, s.key, s.good)
		e.wantCheckpoint(t, s.key, s.good)
		dl := e.deadLetter(t, s.seq)
		for name, vs := range s.hdr {
			if got := dl.Header.Get(streams.HeaderOrigPrefix + name); got != vs[0] {
				t.Errorf("seq %d: %s%s = %q, want %q", s.seq, streams.HeaderOrigPrefix, name, got, vs[0])
			}
		}
		for name, vs := range dl.Header {
			if strings.HasPrefix(strings.ToLower(name), "nats-") && name != nats.MsgIdHdr {
				t.Errorf("seq %d: dead letter carries %s: %v", s.seq, name, vs)
			}
		}
		if got, want := dl.Header.Get(nats.MsgIdHdr), "dlq-"+strconv.FormatUint(s.seq, 10); got != want {
			t.Errorf("seq %d: dead letter's Nats-Msg-Id %q, want %q", s.seq, got, want)
		}
	}
	return names
}

// wantApplied waits until k's position reflects the event at seq. The
// count is not checked: a rollup may have removed earlier events.
func (e *env) wantApplied(t *testing.T, k sellable.Key, seq uint64) {
	t.Helper()
	poll.Until(t, 10*time.Second, streams.KeyToken(k), func() error {
		p, err := e.store.Get(context.Background(), k.LocationID, k.SKU)
		if err != nil {
			return err
		}
		if p.Seq != seq {
			return fmt.Errorf("at seq %d, want %d", p.Seq, seq)
		}
		return nil
	})
}

// A dead letter adds headers to what it copies, so a body close to the
// server's max payload, or a huge value quoted in the reason, would no
// longer fit in one message: the publish would fail and the partition
// retry forever, logging the reason each time. What is copied is cut to
// fit, and the dead letter says what was cut.
func TestDeadLetterAlwaysFits(t *testing.T) {
	e := setup(t)
	logs := logtest.New()
	e.startCalculatorWith(t, "c1", wire.NewCodecs(), slog.New(slog.NewTextHandler(logs, nil)))
	ctx := context.Background()
	max := int(e.NC.MaxPayload())
	cases := []struct {
		name string
		sku  string
		body []byte
		// what the dead letter must say was cut
		truncated string
		bodyCut   bool
	}{
		{
			name: "body at the max payload", sku: "big-body",
			body:      bytes.Repeat([]byte("x"), max-64),
			truncated: "body", bodyCut: true,
		},
		{
			// the reason quotes the body's locationId, which is not the
			// subject's: 540 KB of it in a header
			name: "location id in the reason", sku: "big-reason",
			body:      []byte(`{"locationId":"` + strings.Repeat("L", 540<<10) + `","count":1}`),
			truncated: "header:" + streams.HeaderError,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := sellable.Key{LocationID: "BIG", SKU: c.sku}
			ack, err := e.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, k), c.body)
			if err != nil {
				t.Fatal(err)
			}
			good := e.record(t, sellable.Adjustment, k.LocationID, k.SKU, 4)
			e.wantPosition(t, k.LocationID, k.SKU, 4, good)
			e.wantCheckpoint(t, k, good)

			dl := e.deadLetter(t, ack.Sequence)
			if got := dl.Header.Get(streams.HeaderTruncated); !strings.Contains(got, c.truncated) {
				t.Errorf("%s = %q, want it to name %q", streams.HeaderTruncated, got, c.truncated)
			}
			if c.bodyCut {
				if got, want := dl.Header.Get(streams.HeaderOrigSize), strconv.Itoa(len(c.body)); got != want {
					t.Errorf("%s = %q, want %q", streams.HeaderOrigSize, got, want)
				}
				if len(dl.Data) >= len(c.body) || !bytes.HasPrefix(c.body, dl.Data) {
					t.Errorf("body of %d bytes is not a cut of the original %d", len(dl.Data), len(c.body))
				}
			} else if !bytes.Equal(dl.Data, c.body) {
				t.Errorf("body changed though it fit: %d bytes, original %d", len(dl.Data), len(c.body))
			}
			if n := len(dl.Header.Get(streams.HeaderError)); n > 4096 {
				t.Errorf("reason of %d bytes", n)
			}
		})
	}
	// The reason is logged once per dead letter, cut like the header.
	if n := logs.Len(); n > 64<<10 {
		t.Errorf("%d bytes of log for two dead letters", n)
	}
}

// An event sent over HTTP names its sender (Inventory-Source); when it
// cannot be applied, its dead letter still does, whatever the body: here
// an Avro body reaching a calculator that reads only JSON.
func TestDeadLetterNamesTheSource(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: partitions, Avro: true})
	e := &env{System: sys, store: sys.View, cmds: sys.Commands}
	e.startCalculator(t, "c1") // JSON only
	rc, err := e.cmds.Record(context.Background(), sellable.Command{
		Kind: sellable.Adjustment, LocationID: "DLQ", SKU: "source", Count: 1, Source: "wms-eu",
	})
	if err != nil {
		t.Fatal(err)
	}
	dl := e.deadLetter(t, rc.Seq)
	if got := dl.Header.Get(streams.HeaderSource); got != "wms-eu" {
		t.Fatalf("dead letter %v names source %q, want wms-eu", dl.Header, got)
	}
}
