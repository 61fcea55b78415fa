package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A malformed setting used to be ignored (the default stayed in force);
// the program must stop at once and say which variable is wrong.
func TestMalformedSettingStopsProgram(t *testing.T) {
	t.Parallel()
	a := newAllInOne(t)
	a.env["INVENTORY_PARTITIONS"] = "abc"
	p := start(t, "inventory", "inventory", a.env)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("inventory with INVENTORY_PARTITIONS=abc is still running")
	}
	var exit *exec.ExitError
	if p.mu.Lock(); !errors.As(p.err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("exit: %v, want status 2", p.err)
	}
	p.mu.Unlock()
	out, _ := os.ReadFile(p.log)
	if !strings.Contains(string(out), `INVENTORY_PARTITIONS="abc" is not a valid integer`) {
		t.Errorf("output does not name the setting:\n%s", out)
	}
}

// A restart with other shared settings runs with what exists; the admin
// command, run against the running all-in-one, shows and applies them.
func TestAdminApplyOnRunningAllInOne(t *testing.T) {
	t.Parallel()
	a := newAllInOne(t)
	a.start(t).stop()
	a.env["INVENTORY_MAX_BYTES"] = "1000000000"
	a.start(t)
	if mb := eventStreamMaxBytes(t, a.natsURL); mb != -1 {
		t.Fatalf("a start changed max_bytes to %d", mb)
	}
	for _, sub := range []string{"plan", "apply"} {
		cmd := exec.Command(filepath.Join(bin, "inventory"), "admin", sub, "--nats-url", a.natsURL, "--max-bytes", "1000000000")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "~ stream INVENTORY max_bytes: existing unlimited, wanted 1000000000") {
			t.Fatalf("admin %s: %v\n%s", sub, err, out)
		}
	}
	if mb := eventStreamMaxBytes(t, a.natsURL); mb != 1000000000 {
		t.Fatalf("after apply max_bytes is %d", mb)
	}
}

func eventStreamMaxBytes(t *testing.T, url string) int64 {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(context.Background(), "INVENTORY")
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().Config.MaxBytes
}
