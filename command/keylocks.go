package command

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/sellable/inventory/sellable"
)

// keyLocks lets the decisions of one process on one key take turns.
//
// Of N decisions racing on a key, one batch is stored per round and the
// other N-1 are refused and decide again: their reads, view waits and
// refused batches load the server and the calculator whose view they
// wait for, and under 32 racers in one process the hot key collapsed
// to a few reservations per second (BENCHMARKS.md, "Cart reservations").
// Inside one process there is no need to race: a decision waits for the
// ones before it on its keys. Correctness never depends on it; another
// process may decide on the key at any time, and the expected last
// subject sequence settles that as before.
type keyLocks struct {
	mu sync.Mutex
	m  map[sellable.Key]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds one token while locked
	refs int           // decisions holding or waiting for it
}

// lock takes the locks of keys, in one global order so that two
// decisions on overlapping keys cannot wait for each other, and returns
// how to let them go. It gives up when ctx ends.
func (l *keyLocks) lock(ctx context.Context, keys []sellable.Key) (unlock func(), err error) {
	if len(keys) == 0 {
		return func() {}, nil
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, func(a, b sellable.Key) int {
		if c := strings.Compare(a.LocationID, b.LocationID); c != 0 {
			return c
		}
		return strings.Compare(a.SKU, b.SKU)
	})
	sorted = slices.Compact(sorted)
	locks := make([]*keyLock, len(sorted))
	l.mu.Lock()
	if l.m == nil {
		l.m = map[sellable.Key]*keyLock{}
	}
	for i, k := range sorted {
		kl := l.m[k]
		if kl == nil {
			kl = &keyLock{ch: make(chan struct{}, 1)}
			l.m[k] = kl
		}
		kl.refs++
		locks[i] = kl
	}
	l.mu.Unlock()
	held := 0
	release := func() {
		for _, kl := range locks[:held] {
			<-kl.ch
		}
		l.mu.Lock()
		for i, kl := range locks {
			if kl.refs--; kl.refs == 0 {
				delete(l.m, sorted[i])
			}
		}
		l.mu.Unlock()
	}
	for _, kl := range locks {
		select {
		case kl.ch <- struct{}{}:
			held++
		case <-ctx.Done():
			release()
			return nil, fmt.Errorf("%w: waiting for a decision on the same key: %w", sellable.ErrUnavailable, ctx.Err())
		}
	}
	return release, nil
}
