package streams

import (
	"context"
	"testing"

	"github.com/sellable/inventory/internal/natstest"
)

// A stream that is as configured must show no difference, or every start
// of every instance would warn about settings nobody changed.
func TestEnsureSeesCreatedStreamsAsUnchanged(t *testing.T) {
	s := natstest.Start(t)
	ctx := context.Background()
	c := DefaultConfig()
	if err := Ensure(ctx, s.JS, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range Configs(c) {
		st, err := s.JS.Stream(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		if d := Diff(st.CachedInfo().Config, want); len(d) > 0 {
			t.Errorf("%s: server config differs: %v", want.Name, d)
		}
	}
}
