package streams

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/natstest"
)

// A stream that is as configured must be left alone, or every start of
// every instance would propose an update to the cluster.
func TestEnsureSeesCreatedStreamsAsUnchanged(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	c := DefaultConfig()
	if err := Ensure(ctx, s.JS, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []jetstream.StreamConfig{EventStreamConfig(c), SellableStreamConfig(c), DeadLetterStreamConfig(c)} {
		st, err := s.JS.Stream(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if have := st.CachedInfo().Config; !same(have, want) {
			t.Errorf("%s: server config %+v differs from %+v", want.Name, have, want)
		}
	}
}
