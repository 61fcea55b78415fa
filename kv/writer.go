package kv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// maxAttempts bounds the compare-and-set loop of one batch. A conflict
// only happens while two instances briefly own a partition, so a few
// rounds always settle it.
const maxAttempts = 16

// backoff waits a random moment that grows with the attempt, so that
// competing writers stop colliding.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(attempt) * int64(time.Millisecond)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Writer is the single writer of one partition's bucket. It caches the
// value and revision of the keys it wrote most recently, so that in the
// steady state a write costs one publish and no read; the cache is
// bounded (WithCacheKeys) and a key it forgot is read again. It is not
// safe for concurrent use.
type Writer struct {
	js      jetstream.JetStream
	bucket  jetstream.KeyValue
	log     jetstream.Stream // the bucket's backing stream
	prefix  string           // where the bucket's puts go, see putPrefix
	stored  string           // "$KV.<bucket>.": the keys' subjects in the stream
	cache   *cache
	rebuild RebuildFunc
	rebuilt prometheus.Counter
	// fresh estimates how often a key the cache misses is absent from
	// the bucket; it decides whether such a key is created blind or read
	// first (createFirst).
	fresh freshness
	stats WriterStats
	m     writerMetrics
}

// WriterStats counts what a Writer did, for tests and benchmarks; the
// same figures go to /metrics by partition.
type WriterStats struct {
	// Reads are keys read from the bucket before a write.
	Reads uint64
	// Creates are keys written without a read, expecting none there;
	// CreateConflicts those of them that were there after all.
	Creates, CreateConflicts uint64
	// Stalls are publishes that waited for room in the connection's
	// window of unacknowledged publishes.
	Stalls uint64
}

type writerMetrics struct {
	reads, creates, createConflicts prometheus.Counter
}

type entry struct {
	pos sellable.Position
	rev uint64
}

// DefaultCacheKeys bounds a Writer's cache unless WithCacheKeys says
// otherwise.
const DefaultCacheKeys = 25_000

// RebuildFunc computes a key's position from the event log, through at
// least the events about to be written. A Writer calls it for a key it
// finds deleted or purged in the bucket: an operator who deletes a view
// key says its value is wrong, so the key is folded again, never started
// from zero.
type RebuildFunc func(ctx context.Context, k sellable.Key) (sellable.Position, error)

// WriterOption sets optional behaviour of a Writer.
type WriterOption func(*Writer)

// WithCacheKeys bounds the cache to n keys; 0 caches nothing, so every
// write reads its key first.
func WithCacheKeys(n int) WriterOption {
	return func(w *Writer) { w.cache.max = max(n, 0) }
}

// WithRebuild sets how a deleted or purged key is rebuilt. Without it
// such a key starts again from the zero position.
func WithRebuild(fn RebuildFunc) WriterOption {
	return func(w *Writer) { w.rebuild = fn }
}

// Writer returns the writer of partition p. Only the partition's owner
// should hold one; a second writer is safe but slows both down.
func (s *Store) Writer(js jetstream.JetStream, p int, opts ...WriterOption) *Writer {
	label := strconv.Itoa(p)
	w := &Writer{
		js:     js,
		bucket: s.buckets[p],
		log:    s.logs[p],
		prefix: putPrefix(js, s.buckets[p].Bucket()),
		stored: "$KV." + s.buckets[p].Bucket() + ".",
		cache: newCache(DefaultCacheKeys, cacheMetrics{
			size:      metrics.WriterCacheKeys.WithLabelValues(label),
			hits:      metrics.WriterCacheHits.WithLabelValues(label),
			misses:    metrics.WriterCacheMisses.WithLabelValues(label),
			evictions: metrics.WriterCacheEvictions.WithLabelValues(label),
		}),
		rebuilt: metrics.KeysRebuilt.WithLabelValues(label),
		m: writerMetrics{
			reads:           metrics.WriterReads.WithLabelValues(label),
			creates:         metrics.WriterCreates.WithLabelValues(label),
			createConflicts: metrics.WriterCreateConflicts.WithLabelValues(label),
		},
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// putPrefix is the subject prefix of the bucket's own puts, built as
// nats.go's KV builds it: "$KV.<bucket>.", behind the JetStream API prefix
// when the connection reaches JetStream through one (a domain, or another
// account's JetStream imported under a prefix), where a bare $KV subject
// would reach no stream. The writer publishes itself, rather than through
// KeyValue.Update, to keep a whole batch of compare-and-set writes in
// flight at once (BENCHMARKS.md, "KV writes").
func putPrefix(js jetstream.JetStream, bucket string) string {
	o := js.Options()
	api := ""
	switch {
	case o.Domain != "":
		api = "$JS." + o.Domain + ".API."
	case o.APIPrefix != "" && o.APIPrefix != jetstream.DefaultAPIPrefix:
		api = strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return api + "$KV." + bucket + "."
}

// Stats is what the writer did so far.
func (w *Writer) Stats() WriterStats { return w.stats }

// CachedKeys is how many keys the cache holds now.
func (w *Writer) CachedKeys() int { return w.cache.len() }

// Close forgets the cache, so that its gauge no longer counts it; the
// partition's next owner starts with its own.
func (w *Writer) Close() { w.cache.clear() }

// UpdateFunc computes a key's next position from its current one (the
// zero Position when absent). It reports false when nothing changes. It
// may run more than once per key and must depend only on its inputs.
type UpdateFunc func(k sellable.Key, cur sellable.Position) (next sellable.Position, changed bool)

// Update applies fn to every key and writes the changed positions with
// compare-and-set, all in flight at once. On a revision conflict it
// re-reads the key and runs fn again. It returns each key's resulting
// position, in the order of keys.
//
// A key the cache misses is either read first or, while most such keys
// turn out new (freshness), folded from the zero position and written
// as a create, expecting no message on its subject: a key that existed
// after all (or was deleted, leaving a marker) fails that expectation
// and is then read and folded again, so the outcome is the same as
// reading first; only the cost differs.
func (w *Writer) Update(ctx context.Context, keys []sellable.Key, fn UpdateFunc) ([]sellable.Position, error) {
	out := make([]sellable.Position, len(keys))
	pending := make([]int, len(keys))
	for i := range keys {
		pending[i] = i
	}
	// mustRead marks keys known to be in the bucket (a conflict said
	// so): they are read, never created blind again.
	mustRead := make([]bool, len(keys))
	for attempt := 0; len(pending) > 0; {
		if attempt == maxAttempts {
			return nil, fmt.Errorf("%w: %d keys in %s", ErrConflict, len(pending), w.bucket.Bucket())
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		var contended bool
		var err error
		if pending, contended, err = w.round(ctx, keys, pending, mustRead, out, fn); err != nil {
			return nil, err
		}
		// A create that found its key is no contention: the key is read
		// in the next round at once, without backing off.
		if contended {
			attempt++
		}
	}
	return out, nil
}

type inflight struct {
	idx    int
	key    string // streams.KeyToken(keys[idx]), encoded once
	pos    sellable.Position
	create bool // written blind, expecting no message on its subject
	ack    jetstream.PubAckFuture
}

// round writes the pending keys once and returns those that conflicted,
// and whether any conflict was with another writer rather than a blind
// create finding its key.
func (w *Writer) round(ctx context.Context, keys []sellable.Key, pending []int, mustRead []bool, out []sellable.Position, fn UpdateFunc) ([]int, bool, error) {
	flights := make([]inflight, 0, len(pending))
	for _, i := range pending {
		ks := streams.KeyToken(keys[i])
		cur, from, err := w.current(ctx, keys[i], ks, mustRead[i])
		if err != nil {
			return nil, false, err
		}
		next, changed := fn(keys[i], cur.pos)
		if !changed && (from == fromCache || from == fromCreate) {
			// Nothing to write happens only on replays, when another
			// writer may have moved the key on since we cached it, or
			// when the key was never read: report what the bucket
			// holds, not what we remember or assumed.
			w.cache.remove(ks)
			if cur, from, err = w.current(ctx, keys[i], ks, true); err != nil {
				return nil, false, err
			}
			next, changed = fn(keys[i], cur.pos)
		}
		if from == fromRebuild && !changed {
			// The rebuilt value may already reflect every event of the
			// batch, but the marker must still be replaced by it.
			next, changed = cur.pos, true
		}
		if !changed {
			out[i] = cur.pos
			continue
		}
		data, err := EncodeValue(next)
		if err != nil {
			return nil, false, fmt.Errorf("kv: encode %s: %w", ks, err)
		}
		msg := &nats.Msg{Subject: w.prefix + ks, Data: data}
		ack, err := publishAsync(ctx, w.js, msg, &w.stats.Stalls, jetstream.WithExpectLastSequencePerSubject(cur.rev))
		if err != nil {
			return nil, false, fmt.Errorf("kv: put %s: %w", ks, err)
		}
		if from == fromCreate {
			w.stats.Creates++
			w.m.creates.Inc()
		}
		flights = append(flights, inflight{idx: i, key: ks, pos: next, create: from == fromCreate, ack: ack})
	}
	var conflicts []int
	contended := false
	var firstErr error
	for _, f := range flights {
		ks := f.key
		select {
		case pa := <-f.ack.Ok():
			w.cache.put(ks, entry{pos: f.pos, rev: pa.Sequence})
			out[f.idx] = f.pos
			if f.create {
				w.fresh.observe(true)
			}
		case err := <-f.ack.Err():
			w.cache.remove(ks)
			if isRevisionMismatch(err) {
				conflicts = append(conflicts, f.idx)
				mustRead[f.idx] = true
				if f.create {
					w.stats.CreateConflicts++
					w.m.createConflicts.Inc()
					w.fresh.observe(false)
				} else {
					contended = true
				}
			} else if firstErr == nil {
				firstErr = fmt.Errorf("kv: put %s: %w", ks, err)
			}
		case <-ctx.Done():
			w.cache.clear() // unknown outcomes: trust nothing
			return nil, false, ctx.Err()
		}
	}
	return conflicts, contended, firstErr
}

// source says where current found a key's entry.
type source int

const (
	fromCache   source = iota
	fromBucket         // read; absent keys read as the zero entry
	fromRebuild        // a delete or purge marker, with the position rebuilt
	fromCreate         // not read: assumed absent, written as a create
)

// current returns the entry of key k (encoded ks), from the cache, read
// from the bucket, or, unless mustRead, assumed absent when keys the
// cache misses are mostly new.
func (w *Writer) current(ctx context.Context, k sellable.Key, ks string, mustRead bool) (entry, source, error) {
	if e, ok := w.cache.get(ks); ok {
		return e, fromCache, nil
	}
	if !mustRead && w.fresh.createFirst() {
		return entry{}, fromCreate, nil
	}
	w.stats.Reads++
	w.m.reads.Inc()
	e, deleted, err := w.read(ctx, ks)
	if err != nil {
		return entry{}, 0, err
	}
	if !deleted {
		// Only a read without a conflict behind it samples the keys the
		// cache misses; a conflict already counted its key as not new.
		if !mustRead {
			w.fresh.observe(e.rev == 0)
		}
		w.cache.put(ks, e)
		return e, fromBucket, nil
	}
	// Write over the marker with compare-and-set on its revision, as the
	// KV API's Create does: expecting revision 0 would conflict forever.
	// Not cached: the write that follows caches what it stores.
	if w.rebuild != nil {
		if e.pos, err = w.rebuild(ctx, k); err != nil {
			return entry{}, 0, fmt.Errorf("kv: rebuild deleted key %s: %w", ks, err)
		}
	}
	w.rebuilt.Inc()
	return e, fromRebuild, nil
}

// freshness is a moving estimate of the share of cache misses whose key
// is absent from the bucket. Creating blind costs one write when the key
// is new, and a failed write, a read and a write when it is not; reading
// first always costs a read and a write. So a writer creates blind while
// most misses are new keys (a catalogue growing, or a view built from
// scratch) and reads first while most are not (a warm view replayed after
// a restart, or a cache too small for the keys in use). It starts at 0,
// reading first: a restarted writer over a warm view then never pays a
// failed create per key, and one over new keys switches after a few
// dozen reads that found nothing. Reads and creates both keep sampling
// it, so it follows the mix as it changes.
type freshness struct {
	p float64
	// force pins the choice, for benchmarks that price each side
	// (export_test.go): > 0 always creates blind, < 0 always reads.
	force int
}

// freshnessWeight is the weight of the newest sample: about the last 32
// misses count.
const freshnessWeight = 1.0 / 32

func (f *freshness) observe(isNew bool) {
	x := 0.0
	if isNew {
		x = 1
	}
	f.p += (x - f.p) * freshnessWeight
}

func (f *freshness) createFirst() bool {
	if f.force != 0 {
		return f.force > 0
	}
	return f.p > 0.5
}

// read returns key's entry in the bucket and whether it is a delete or
// purge marker, whose revision the entry then carries. The KV API's Get
// hides markers (and their revisions), so the writer reads the key's
// last message from the backing stream, as Get itself does.
func (w *Writer) read(ctx context.Context, key string) (entry, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, getTimeout)
	defer cancel()
	m, err := w.log.GetLastMsgForSubject(ctx, w.stored+key)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return entry{}, false, nil
	}
	if err != nil {
		return entry{}, false, fmt.Errorf("kv: get %s: %w: %w", key, sellable.ErrUnavailable, err)
	}
	if isMarker(m.Header) {
		return entry{rev: m.Sequence}, true, nil
	}
	pos, err := DecodeValue(m.Data)
	if err != nil {
		return entry{}, false, fmt.Errorf("kv: decode %s: %w", key, err)
	}
	return entry{pos: pos, rev: m.Sequence}, false, nil
}

// kvOperation is the header nats.go's KV API sets on delete ("DEL") and
// purge ("PURGE") markers (ADR-8); the library keeps its name private.
const kvOperation = "KV-Operation"

// isMarker tells a delete or purge marker from a value, by the same
// headers the KV API looks at: its own, or the server's marker reason.
func isMarker(h nats.Header) bool {
	if op := h.Get(kvOperation); op != "" {
		return op == "DEL" || op == "PURGE"
	}
	switch h.Get(jetstream.MarkerReasonHeader) {
	case "MaxAge", "Purge", "Remove":
		return true
	}
	return false
}

// isRevisionMismatch tells a compare-and-set conflict (10071, or 10164 on
// replicated streams) from other publish failures.
func isRevisionMismatch(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
