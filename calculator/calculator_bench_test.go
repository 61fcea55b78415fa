package calculator

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// The hot path of the calculator, piece by piece and whole: decode a
// stored event, fold a batch, process a batch against a real server
// (decode, fold, compare-and-set KV writes, change publishes), and the
// pipeline from publish to applied. Codec-only benchmarks live in
// streams; the KV value encode and Writer.Update alone live in kv.

// memRegistry is a schema registry in memory, enough for the Avro codecs.
type memRegistry struct {
	mu  sync.Mutex
	ids map[string]int
	by  map[int]string
}

func (r *memRegistry) Register(_ context.Context, subject, schema string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, ok := r.ids[schema]; ok {
		return id, nil
	}
	id := len(r.by) + 1
	r.ids[schema], r.by[id] = id, schema
	return id, nil
}

func (r *memRegistry) SchemaByID(_ context.Context, id int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.by[id]; ok {
		return s, nil
	}
	return "", fmt.Errorf("schema %d: %w", id, wire.ErrSchemaNotFound)
}

// codecSet is one way events are written: what command.Service encodes
// them with and what the calculator decodes them with.
type codecSet struct {
	name     string
	events   wire.EventCodec
	decoders *wire.Codecs
}

// benchWires are JSON (hand-published events) and Avro (the all-in-one).
func benchWires(b *testing.B) []codecSet {
	b.Helper()
	reg := &memRegistry{ids: map[string]int{}, by: map[int]string{}}
	ctx := context.Background()
	ev, err := wire.NewAvroEvents(ctx, reg, wire.AvroConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return []codecSet{
		{name: "json", events: wire.JSON{}, decoders: wire.NewCodecs()},
		{name: "avro", events: ev, decoders: wire.NewCodecs(ev)},
	}
}

// storedMsg is an event as the partition's consumer hands it over, with
// the sequence and time the stream gave it. Only what process reads is
// implemented.
type storedMsg struct {
	jetstream.Msg
	subject string
	header  nats.Header
	data    []byte
	meta    jetstream.MsgMetadata
}

func (m *storedMsg) Subject() string                           { return m.subject }
func (m *storedMsg) Headers() nats.Header                      { return m.header }
func (m *storedMsg) Data() []byte                              { return m.data }
func (m *storedMsg) Metadata() (*jetstream.MsgMetadata, error) { return &m.meta, nil }

// storedSubject inserts the partition token as the stream's transform does.
func storedSubject(e sellable.Event, p int) string {
	s := streams.EventSubject(e.Kind, e.Key)
	root, rest, _ := strings.Cut(s, ".")
	kind, key, _ := strings.Cut(rest, ".")
	return root + "." + kind + "." + fmt.Sprint(p) + "." + key
}

// benchEvents are n events over keys keys, Zipf-skewed like the load
// tool's (s = 1.1), three adjustments to one reservation.
func benchEvents(n, keys int) []sellable.Event {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 1, uint64(keys-1))
	out := make([]sellable.Event, n)
	for i := range out {
		k := sellable.Key{LocationID: fmt.Sprintf("L%d", i%10), SKU: fmt.Sprintf("sku-%05d", z.Uint64())}
		if r.IntN(4) == 0 {
			out[i] = sellable.Event{Kind: sellable.Reservation, Key: k, Count: 1}
		} else {
			out[i] = sellable.Event{Kind: sellable.Adjustment, Key: k, Count: 1 + r.Int64N(10)}
		}
	}
	return out
}

func storedBatch(b *testing.B, w codecSet, evs []sellable.Event) []jetstream.Msg {
	b.Helper()
	out := make([]jetstream.Msg, len(evs))
	for i, e := range evs {
		data, err := w.events.EncodeEvent(e)
		if err != nil {
			b.Fatal(err)
		}
		h := nats.Header{}
		h.Set(streams.HeaderContentType, w.events.ContentType())
		out[i] = &storedMsg{subject: storedSubject(e, 0), header: h, data: data,
			meta: jetstream.MsgMetadata{Timestamp: time.Now()}}
	}
	return out
}

// BenchmarkDecodeStored is one stored event to a validated Event: subject
// parse, token decode, body decode, checks.
func BenchmarkDecodeStored(b *testing.B) {
	for _, w := range benchWires(b) {
		m := storedBatch(b, w, benchEvents(1, 100))[0].(*storedMsg)
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(m.data)))
			for b.Loop() {
				if _, _, err := w.decoders.DecodeStored(b.Context(), m.subject, m.header, m.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFold is the fold step of process on a batch of 1000 decoded
// events: group by key (a batchFold reused across batches, as a
// partition does), Position.Apply each in order.
func BenchmarkFold(b *testing.B) {
	evs := benchEvents(1000, 100)
	at := time.Now().UTC()
	b.ReportAllocs()
	seq := uint64(0)
	f := newBatchFold()
	for b.Loop() {
		f.reset()
		for _, e := range evs {
			seq++
			f.add(e, seq, at)
		}
		for _, k := range f.keys {
			var pos sellable.Position
			f.apply(k, &pos)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

func benchPartition(b *testing.B, w codecSet) *partition {
	b.Helper()
	s := stacktest.Start(b, 1)
	cfg := DefaultConfig()
	cfg.Partitions = 1
	cfg.Logger = slog.New(slog.DiscardHandler)
	return &partition{id: 0, js: s.JS, writer: s.View.Writer(s.JS, 0), codecs: w.decoders,
		cfg: cfg, log: cfg.Logger, stats: &Stats{}}
}

// BenchmarkProcess runs batches through partition.process against an
// embedded server: decode, fold, one compare-and-set KV write per key
// (which the bucket republishes), all acks awaited. One op is one event, so
// ns/op compares across batch sizes. Events are Zipf over 100 keys: a
// batch of 1000 touches about 60 keys, so it writes 60 values, not 1000.
func BenchmarkProcess(b *testing.B) {
	for _, w := range benchWires(b) {
		for _, n := range []int{1, 100, 1000} {
			b.Run(fmt.Sprintf("%s/batch=%d", w.name, n), func(b *testing.B) {
				p := benchPartition(b, w)
				batch := storedBatch(b, w, benchEvents(n, 100))
				ctx := context.Background()
				seq := uint64(0)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i += n {
					part := batch[:min(n, b.N-i)]
					for _, m := range part {
						seq++
						m.(*storedMsg).meta.Sequence.Stream = seq
					}
					if _, err := p.process(ctx, part); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkPipeline is the whole write path in one process, as in the
// all-in-one: Avro events published asynchronously onto the event
// subjects (what the command API does, minus HTTP), the server's
// partition transform, a calculator over 8 partitions, until every event
// is applied. One op is one event. Run it with -cpuprofile and a large
// -benchtime (e.g. 200000x) to see where the CPU goes.
func BenchmarkPipeline(b *testing.B) {
	w := benchWires(b)[1]
	s := stacktest.Start(b, 0)
	cfg := DefaultConfig()
	cfg.Partitions, cfg.LeaseTTL = s.Streams.Partitions, time.Second
	cfg.Logger = slog.New(slog.DiscardHandler)
	calc, err := New(context.Background(), Deps{JS: s.JS, Store: s.View, Events: w.decoders}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	stacktest.Go(b, calc.Run)
	waitFor(b, 10*time.Second, func() bool { return len(calc.Owned()) == cfg.Partitions })

	evs := benchEvents(10_000, 1000)
	msgs := make([]*nats.Msg, len(evs))
	for i, e := range evs {
		data, err := w.events.EncodeEvent(e)
		if err != nil {
			b.Fatal(err)
		}
		msgs[i] = &nats.Msg{Subject: streams.EventSubject(e.Kind, e.Key), Header: nats.Header{streams.HeaderContentType: {w.events.ContentType()}}, Data: data}
	}
	applied := func() uint64 {
		var n uint64
		for _, ps := range calc.Stats() {
			n += ps.Applied
		}
		return n
	}
	b.ReportAllocs()
	b.ResetTimer()
	window := make(chan jetstream.PubAckFuture, 1024)
	acks := make(chan error, 1)
	go func() {
		var first error
		for f := range window {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				first = cmpErr(first, err)
			}
		}
		acks <- first
	}()
	for i := range b.N {
		m := *msgs[i%len(msgs)]
		f, err := s.JS.PublishMsgAsync(&m)
		if err != nil {
			b.Fatal(err)
		}
		window <- f
	}
	close(window)
	if err := <-acks; err != nil {
		b.Fatal(err)
	}
	waitFor(b, time.Minute, func() bool { return applied() >= uint64(b.N) })
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// waitFor checks cond every millisecond: unlike internal/poll's 20 ms it
// runs inside the timed part of BenchmarkPipeline, where each check's
// delay is counted in the events/s.
func waitFor(b *testing.B, d time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("condition not met within %v", d)
		}
		time.Sleep(time.Millisecond)
	}
}
