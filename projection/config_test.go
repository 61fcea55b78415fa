package projection

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestReplicationMap(t *testing.T) {
	cases := []struct {
		in, want string
		err      bool
	}{
		{"", "{'class': 'SimpleStrategy', 'replication_factor': 1}", false},
		{"3", "{'class': 'SimpleStrategy', 'replication_factor': 3}", false},
		{"dc1:3, dc2:2", "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': 2}", false},
		{"{'class': 'NetworkTopologyStrategy', 'dc1': 3}", "{'class': 'NetworkTopologyStrategy', 'dc1': 3}", false},
		{"0", "", true},
		{"dc1", "", true},
		{"dc'1:3", "", true},
		{"{'class': 'SimpleStrategy'}; DROP KEYSPACE x; {", "", true},
	}
	for _, c := range cases {
		got, err := replicationMap(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("replicationMap(%q) = %q, %v", c.in, got, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := DefaultConfig()
	bad.Hosts, bad.Keyspace, bad.MaxInFlight = nil, "inventory; DROP", 0
	err := bad.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate = %v, want ErrConfig", err)
	}
	if got := ParseHosts(" a:9042, ,b "); !slices.Equal(got, []string{"a:9042", "b"}) {
		t.Fatalf("ParseHosts = %q", got)
	}
}

func TestBackoffCountsABurstOnce(t *testing.T) {
	b := backoff{min: time.Millisecond, max: 4 * time.Millisecond}
	gen, _ := b.wait(t.Context())
	// Three writes let through together fail: one step, not three.
	for i, wantSet := range []bool{true, false, false} {
		if d, set := b.fail(gen); d != time.Millisecond || set != wantSet {
			t.Fatalf("failure %d: %v %v", i, d, set)
		}
	}
	for _, want := range []time.Duration{2, 4, 4} {
		gen, _ = b.wait(t.Context())
		if d, _ := b.fail(gen); d != want*time.Millisecond {
			t.Fatalf("pause %v, want %vms", d, want)
		}
	}
	if !b.ok() || b.ok() {
		t.Fatal("ok should end the pause once")
	}
	gen, _ = b.wait(t.Context())
	if d, _ := b.fail(gen); d != time.Millisecond {
		t.Fatalf("after success the pause starts over: %v", d)
	}
}
