package app

import (
	"log/slog"
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestMemoryLimitParses(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "768MiB": 768 << 20, "1.5GiB": 3 << 29, "1GiB": 1 << 30,
		"800MB": 800e6, "64 KiB": 64 << 10, "10B": 10,
	} {
		var m MemoryLimit
		if err := m.Set(in); err != nil || m.Bytes != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, m.Bytes, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "1XB", "1e30GiB", "GiB"} {
		var m MemoryLimit
		if err := m.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted: %d", bad, m.Bytes)
		}
	}
	if got := (&MemoryLimit{Bytes: 1536 << 20}).String(); got != "1536MiB" {
		t.Errorf("String() = %q", got)
	}
}

// A malformed INVENTORY_MEMORY_LIMIT stops the program with the form it
// wants.
func TestMalformedMemoryLimitFailsParse(t *testing.T) {
	t.Setenv("INVENTORY_MEMORY_LIMIT", "1 gig")
	f := NewFlags("test")
	MemoryLimitFlag(f, 0, "")
	err := f.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "INVENTORY_MEMORY_LIMIT") || !strings.Contains(err.Error(), "GiB") {
		t.Fatalf("err = %v", err)
	}
}

// The runtime's limit follows the setting; an explicit GOMEMLIMIT in the
// environment stands over the default, and an explicit setting over
// GOMEMLIMIT.
func TestMemoryLimitApplies(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.DiscardHandler)
	current := func() int64 { return debug.SetMemoryLimit(-1) }

	t.Setenv(MemoryLimitEnv, "")
	parse := func(args ...string) *MemoryLimit {
		f := NewFlags("test")
		m := MemoryLimitFlag(f, 900<<20, "")
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return m
	}
	parse().Apply(log)
	if got := current(); got != 900<<20 {
		t.Fatalf("default: limit %d, want 900 MiB", got)
	}
	parse("--memory-limit", "0").Apply(log)
	if got := current(); got != math.MaxInt64 {
		t.Fatalf("0: limit %d, want none", got)
	}

	// GOMEMLIMIT was applied by the runtime at start; the default must
	// not overwrite it.
	t.Setenv(MemoryLimitEnv, "3GiB")
	debug.SetMemoryLimit(3 << 30)
	parse().Apply(log)
	if got := current(); got != 3<<30 {
		t.Fatalf("GOMEMLIMIT and the default: limit %d, want GOMEMLIMIT's 3 GiB", got)
	}
	t.Setenv("INVENTORY_MEMORY_LIMIT", "512MiB")
	parse().Apply(log)
	if got := current(); got != 512<<20 {
		t.Fatalf("GOMEMLIMIT and INVENTORY_MEMORY_LIMIT: limit %d, want 512 MiB", got)
	}
}
