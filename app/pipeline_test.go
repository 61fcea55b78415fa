package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/streams"
)

// The idempotency window a user sets, by environment or flag, is the
// duplicate window of the event stream the program creates; the streams
// the calculator writes keep their own short window.
func TestIdempotencyWindowReachesTheEventStream(t *testing.T) {
	cases := []struct {
		env  string
		args []string
		want time.Duration
	}{
		{"", nil, streams.DefaultDuplicates},
		{"3h", nil, 3 * time.Hour},
		{"3h", []string{"--idempotency-window", "24h"}, 24 * time.Hour},
	}
	for _, c := range cases {
		if c.env != "" {
			t.Setenv("INVENTORY_IDEMPOTENCY_WINDOW", c.env)
		}
		f := app.NewFlags("test")
		common := app.CommonFlags(f, "127.0.0.1:0", "", "")
		if err := f.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if common.IdempotencyWindow != c.want {
			t.Fatalf("env %q args %v: window %v, want %v", c.env, c.args, common.IdempotencyWindow, c.want)
		}
		s := natstest.Start(t)
		ctx := context.Background()
		if err := app.EnsureStreams(ctx, s.JS, common.Topology, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		for name, want := range map[string]time.Duration{streams.EventStream: c.want, streams.DeadLetterStream: 2 * time.Minute} {
			st, err := s.JS.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.CachedInfo().Config.Duplicates; got != want {
				t.Errorf("env %q args %v: %s duplicate window %v, want %v", c.env, c.args, name, got, want)
			}
		}
	}
}

func TestIdempotencyWindowFlagRefusesNonPositive(t *testing.T) {
	for _, v := range []string{"0", "-1m", "ten minutes", "10"} {
		f := app.NewFlags("test")
		f.Init("test", 0) // ContinueOnError, so the test sees the error
		f.SetOutput(io.Discard)
		app.CommonFlags(f, "127.0.0.1:0", "", "")
		if err := f.Parse([]string{"--idempotency-window", v}); err == nil {
			t.Errorf("--idempotency-window %q accepted", v)
		}
	}
}
