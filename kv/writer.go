package kv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// Writer is the single writer of one partition's bucket. It caches each
// key's value and revision, so that in the steady state a write costs one
// publish and no read. It is not safe for concurrent use.
type Writer struct {
	js     jetstream.JetStream
	bucket jetstream.KeyValue
	prefix string // "$KV.<bucket>."
	cache  map[string]entry
}

type entry struct {
	pos sellable.Position
	rev uint64
}

// Writer returns the writer of partition p. Only the partition's owner
// should hold one; a second writer is safe but slows both down.
func (s *Store) Writer(js jetstream.JetStream, p int) *Writer {
	return &Writer{
		js:     js,
		bucket: s.buckets[p],
		prefix: "$KV." + s.buckets[p].Bucket() + ".",
		cache:  make(map[string]entry),
	}
}

// UpdateFunc computes a key's next position from its current one (the
// zero Position when absent). It reports false when nothing changes. It
// may run more than once per key and must depend only on its inputs.
type UpdateFunc func(k streams.Key, cur sellable.Position) (next sellable.Position, changed bool)

// Update applies fn to every key and writes the changed positions with
// compare-and-set, all in flight at once. On a revision conflict it
// re-reads the key and runs fn again. It returns each key's resulting
// position, in the order of keys.
func (w *Writer) Update(ctx context.Context, keys []streams.Key, fn UpdateFunc) ([]sellable.Position, error) {
	out := make([]sellable.Position, len(keys))
	pending := make([]int, len(keys))
	for i := range keys {
		pending[i] = i
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == maxAttempts {
			return nil, fmt.Errorf("%w: %d keys in %s", ErrConflict, len(pending), w.bucket.Bucket())
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		var err error
		if pending, err = w.round(ctx, keys, pending, out, fn); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type inflight struct {
	idx int
	key string // keys[idx].String(), encoded once
	pos sellable.Position
	ack jetstream.PubAckFuture
}

// round writes the pending keys once and returns those that conflicted.
func (w *Writer) round(ctx context.Context, keys []streams.Key, pending []int, out []sellable.Position, fn UpdateFunc) ([]int, error) {
	flights := make([]inflight, 0, len(pending))
	for _, i := range pending {
		ks := keys[i].String()
		cur, cached, err := w.current(ctx, ks)
		if err != nil {
			return nil, err
		}
		next, changed := fn(keys[i], cur.pos)
		if !changed && cached {
			// Nothing to write happens only on replays, when another
			// writer may have moved the key on since we cached it: report
			// what the bucket holds, not what we remember.
			delete(w.cache, ks)
			if cur, _, err = w.current(ctx, ks); err != nil {
				return nil, err
			}
			next, changed = fn(keys[i], cur.pos)
		}
		if !changed {
			out[i] = cur.pos
			continue
		}
		data, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("kv: encode %s: %w", ks, err)
		}
		msg := &nats.Msg{Subject: w.prefix + ks, Data: data}
		ack, err := w.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(cur.rev))
		if err != nil {
			return nil, fmt.Errorf("kv: put %s: %w", ks, err)
		}
		flights = append(flights, inflight{idx: i, key: ks, pos: next, ack: ack})
	}
	var conflicts []int
	var firstErr error
	for _, f := range flights {
		ks := f.key
		select {
		case pa := <-f.ack.Ok():
			w.cache[ks] = entry{pos: f.pos, rev: pa.Sequence}
			out[f.idx] = f.pos
		case err := <-f.ack.Err():
			delete(w.cache, ks)
			if isRevisionMismatch(err) {
				conflicts = append(conflicts, f.idx)
			} else if firstErr == nil {
				firstErr = fmt.Errorf("kv: put %s: %w", ks, err)
			}
		case <-ctx.Done():
			w.cache = make(map[string]entry) // unknown outcomes: trust nothing
			return nil, ctx.Err()
		}
	}
	return conflicts, firstErr
}

// current returns the entry of key, from the cache (reporting true) or
// read from the bucket.
func (w *Writer) current(ctx context.Context, key string) (entry, bool, error) {
	if e, ok := w.cache[key]; ok {
		return e, true, nil
	}
	pos, rev, err := get(ctx, w.bucket, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return entry{}, false, err
	}
	e := entry{pos: pos, rev: rev}
	w.cache[key] = e
	return e, false, nil
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
