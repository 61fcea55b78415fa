package jsfeed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// Config bounds what the subscribers of one process may hold.
type Config struct {
	// Queue is how many live changes may wait for one subscriber in its
	// queue; one more and it is dropped (feed.ErrSlowConsumer). A
	// resuming subscriber buffers as many live changes per partition
	// while it replays (the buffers grow as changes come).
	Queue int
	// Behind is how many changes the hub's consumers may be behind the
	// view's streams, summed over the partitions (the changes stored that
	// the hub has not read, whichever bucket holds them), before every
	// live subscriber is dropped as slow. Unlike
	// a queue's bound it guards no memory (the changes wait in the
	// streams) but the subscribers' freshness: the whole process is
	// behind, not one reader, so it is set well above a burst, which
	// the hub reads through in a moment (a bound of one queue dropped
	// all 100 subscribers of a load run within 1.3 s, BENCHMARKS.md).
	Behind int
	// Pull is how many changes the hub's consumer, and the consumer of a
	// subscriber that replays, fetch ahead from the server.
	Pull int
	// MaxSubscribers caps the subscriptions open at once.
	MaxSubscribers int
	// Partitions is the number of view partitions; 0 reads it from the
	// event stream (streams.Partitions) on first use.
	Partitions int
	// Logger receives undecodable changes; nil is slog.Default().
	Logger *slog.Logger
	// Frame encodes a change the way readers write it (api.ChangeFrame:
	// the Server-Sent Event), so that the hub encodes each change once
	// for all its subscribers; nil leaves the encoding to each reader.
	Frame func(feed.Change) []byte
}

// DefaultConfig holds 1,024 waiting changes per subscriber (about 300
// KB), at most 1,000 subscribers, and lets the hub fall 16,384 changes
// behind the streams, all partitions together (about 3 s at 5,000
// changes/s).
func DefaultConfig() Config {
	return Config{Queue: 1024, Behind: 16384, Pull: 256, MaxSubscribers: 1000, Logger: slog.Default()}
}

// Validate reports every setting out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Queue < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: queue %d must be at least 1", c.Queue))
	}
	if c.Behind < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: behind %d must be at least 1", c.Behind))
	}
	if c.Pull < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: pull %d must be at least 1", c.Pull))
	}
	if c.Partitions < 0 || c.Partitions > feed.MaxPartitions {
		errs = append(errs, fmt.Errorf("jsfeed: partitions %d not in 0..%d", c.Partitions, feed.MaxPartitions))
	}
	if c.MaxSubscribers < 1 {
		errs = append(errs, fmt.Errorf("jsfeed: max subscribers %d must be at least 1", c.MaxSubscribers))
	}
	return errors.Join(errs...)
}

// Source subscribes readers to the sellable changes, read from the view
// buckets' own streams (KV_sellable_p0 … KV_sellable_p{N-1}): the bucket
// holds each position's newest value, and its stream is the change feed
// of its partition. Live changes come from one hub per Source (hub.go):
// one ordered consumer per partition, each change decoded and encoded
// once and handed to every subscriber whose filter selects it. A
// subscriber that resumes replays each partition from its cursor with
// consumers of its own until they meet the hub (replay.go).
type Source struct {
	js      jetstream.JetStream
	cfg     Config
	log     *slog.Logger
	open    atomic.Int64
	dropped atomic.Uint64

	mu  sync.Mutex // guards hub and n
	hub *hub       // nil while nobody subscribes
	n   int        // partitions, 0 until known
}

// NewSource reads changes from the view buckets' streams in js.
func NewSource(js jetstream.JetStream, cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Source{js: js, cfg: cfg, log: log, n: cfg.Partitions}, nil
}

// Partitions is the number of view partitions, the number of sequences
// in a cursor of this feed: Config.Partitions, else read once from the
// event stream, which every deployment creates with the buckets.
func (s *Source) Partitions(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n > 0 {
		return s.n, nil
	}
	n, err := streams.Partitions(ctx, s.js)
	if err != nil {
		return 0, fmt.Errorf("jsfeed: %w", err)
	}
	if n > feed.MaxPartitions {
		return 0, fmt.Errorf("jsfeed: %d partitions, a cursor holds at most %d", n, feed.MaxPartitions)
	}
	s.n = n
	return n, nil
}

// Stats are the source's subscriber counts.
type Stats struct {
	// Open is how many subscriptions are open now.
	Open int64
	// Dropped counts the subscriptions ended as slow consumers.
	Dropped uint64
}

// Stats reports the subscriber counts.
func (s *Source) Stats() Stats { return Stats{Open: s.open.Load(), Dropped: s.dropped.Load()} }

// Subscribe starts a subscription to the changes f selects after after:
// nil for the changes from now on, feed.Start(n) for every position's
// newest value and what follows, or a change's id to resume after it
// (feed.ParseCursor; a cursor of another length wraps feed.ErrCursor).
// The hub's consumers exist on the server when Subscribe returns, so a
// change stored afterwards is delivered even from now on. The
// subscription ends when ctx does, when it is closed, or when its reader
// falls behind (feed.ErrSlowConsumer).
func (s *Source) Subscribe(ctx context.Context, f feed.Filter, after feed.Cursor) (*feed.Subscription, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	n, err := s.Partitions(ctx)
	if err != nil {
		return nil, err
	}
	if after != nil && len(after) != n {
		return nil, fmt.Errorf("%w: %d numbers, this feed's ids have %d", feed.ErrCursor, len(after), n)
	}
	if s.open.Add(1) > int64(s.cfg.MaxSubscribers) {
		s.open.Add(-1)
		return nil, fmt.Errorf("%w: %d open", feed.ErrTooManySubscribers, s.cfg.MaxSubscribers)
	}
	sub := feed.NewSubscription(s.cfg.Queue, after)
	m := &member{sub: sub, f: f, queue: s.cfg.Queue, behind: s.cfg.Behind}
	if after != nil {
		// Attached before the replays start, so that every live change
		// from here on is either replayed or buffered.
		m.resuming(n, after)
	} else {
		m.live.Store(true)
	}
	h, err := s.attach(ctx, m, n)
	if err != nil {
		s.open.Add(-1)
		return nil, err
	}
	// The replays' goroutines and the hub's work within the
	// subscription's life.
	sctx, cancel := context.WithCancel(ctx)
	stopReplay := func() {}
	if after != nil {
		stopReplay, err = s.replay(sctx, h, m, after)
		if err != nil {
			cancel()
			s.detach(h, m)
			s.open.Add(-1)
			return nil, err
		}
	}
	go func() {
		select {
		case <-sctx.Done():
			sub.Close(nil)
		case <-sub.Done():
		}
		cancel()
		stopReplay()
		s.detach(h, m)
		if errors.Is(sub.Err(), feed.ErrSlowConsumer) {
			s.dropped.Add(1)
		}
		s.open.Add(-1)
	}()
	return sub, nil
}

// kvOperation is the header a KV delete or purge marker carries ("DEL",
// "PURGE"); a put has none. A marker is no change of a position the feed
// could show: the view never deletes, so only an operator's hand puts
// one there, and the feed skips it.
const kvOperation = "KV-Operation"

func isMarker(msg jetstream.Msg) bool {
	h := msg.Headers()
	return h != nil && h.Get(kvOperation) != ""
}

// bucketStream is the stream behind partition p's view bucket.
func bucketStream(p int) string { return "KV_" + kv.BucketName(p) }

// bucketFilter selects in partition p's bucket stream the positions f
// selects: a KV key is the position's subject tokens, <loc>.<sku>.
func bucketFilter(p int, f feed.Filter) string {
	l, k := "*", "*"
	if f.LocationID != "" {
		l = streams.EncodeToken(f.LocationID)
	}
	if f.SKU != "" {
		k = streams.EncodeToken(f.SKU)
	}
	return "$KV." + kv.BucketName(p) + "." + l + "." + k
}

// decode reads the view's value stored at seq of partition p; an
// undecodable value is logged and skipped (ok false): a reader cannot do
// better, and the next value of that position replaces it. The change's
// ID and Frame are left to the caller, which knows the cursor.
func (s *Source) decode(msg jetstream.Msg, p int, seq uint64) (feed.Change, bool) {
	pos, err := kv.DecodeValue(msg.Data())
	if err != nil {
		s.log.Warn("feed: undecodable change skipped", "subject", msg.Subject(), "partition", p, "seq", seq, "err", err)
		return feed.Change{}, false
	}
	return feed.Change{Partition: p, Seq: seq, Position: pos}, true
}

// frame stamps ch with its id and, when the source encodes frames,
// encodes it.
func (s *Source) frame(ch *feed.Change, id feed.Cursor) {
	ch.ID = id
	if s.cfg.Frame != nil {
		ch.Frame = s.cfg.Frame(*ch)
	}
}
