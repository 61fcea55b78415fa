package stacktest

import (
	"context"
	"sync"
	"testing"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// Stack is a running embedded server with the streams and the view.
type Stack struct {
	*natstest.Server
	// Streams is the configuration the streams were ensured with; its
	// Partitions is the partition count of the streams and the view.
	Streams streams.Config
	View    *kv.Store
}

// Start runs a fresh server for the duration of tb and creates the
// streams and view buckets with partitions partitions (0: the default of
// a new deployment).
func Start(tb testing.TB, partitions int) *Stack {
	tb.Helper()
	s := natstest.Start(tb)
	ctx := context.Background()
	cfg := streams.DefaultConfig()
	if partitions != 0 {
		cfg.Partitions = partitions
	}
	if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
		tb.Fatal(err)
	}
	view, err := kv.Open(ctx, s.JS, kv.Config{Partitions: cfg.Partitions, Replicas: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return &Stack{Server: s, Streams: cfg, View: view}
}

// Go runs fn in the background until stop is called or tb ends, whichever
// comes first; stop cancels fn's context and waits for it to return, so a
// test can stop an instance halfway and its cleanup finds it stopped.
func Go(tb testing.TB, fn func(ctx context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = fn(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	tb.Cleanup(stop)
	return stop
}
