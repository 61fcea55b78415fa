package calculator

import (
	"time"

	"github.com/sellable/inventory/sellable"
)

// step is what folding one event needs of it: its key lives once per
// key in batchFold.keys, its other fields are not folded.
type step struct {
	kind  sellable.Kind
	count int64
	seq   uint64
	at    time.Time
	// next is the index of the key's next event in batchFold.steps, -1
	// after its last: each key's events are a chain in batch order.
	next int32
}

// batchFold groups one batch's events by key, in order of first
// appearance, keeping each key's events in stream order. A partition
// keeps one across batches and resets it, so that grouping a batch
// allocates nothing once the map and slices have grown to the largest
// batch (bounded by Config.MaxBatch): a map of slices per batch cost
// 0.7 allocations per event (BENCHMARKS.md, "Allocations on the event
// path").
type batchFold struct {
	// slot is each key's index in keys, head and tail.
	slot map[sellable.Key]int32
	// keys in order of first appearance: what the writer updates, in
	// this order. The writer must not keep it past Update.
	keys []sellable.Key
	// head and tail are each key's first and last event in steps.
	head, tail []int32
	steps      []step
}

func newBatchFold() *batchFold {
	return &batchFold{slot: make(map[sellable.Key]int32)}
}

// reset empties f for the next batch, keeping what it has grown.
func (f *batchFold) reset() {
	clear(f.slot)
	f.keys, f.head, f.tail, f.steps = f.keys[:0], f.head[:0], f.tail[:0], f.steps[:0]
}

// add appends event e stored at seq and time at.
func (f *batchFold) add(e sellable.Event, seq uint64, at time.Time) {
	n := int32(len(f.steps))
	f.steps = append(f.steps, step{kind: e.Kind, count: e.Count, seq: seq, at: at, next: -1})
	i, ok := f.slot[e.Key]
	if !ok {
		f.slot[e.Key] = int32(len(f.keys))
		f.keys = append(f.keys, e.Key)
		f.head = append(f.head, n)
		f.tail = append(f.tail, n)
		return
	}
	f.steps[f.tail[i]].next = n
	f.tail[i] = n
}

// apply folds k's events of the batch into cur, in order, and reports
// whether any of them changed it (a redelivered event does not).
func (f *batchFold) apply(k sellable.Key, cur *sellable.Position) bool {
	i, ok := f.slot[k]
	if !ok {
		return false
	}
	changed := false
	for j := f.head[i]; j >= 0; j = f.steps[j].next {
		s := &f.steps[j]
		if cur.Apply(s.kind, s.count, s.seq, s.at) {
			changed = true
		}
	}
	return changed
}
