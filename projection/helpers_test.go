package projection_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/sellable"
)

// cqlHosts is where the tests find a CQL server: SCYLLA_HOSTS, else a
// local node on 9042. Without either the tests skip, saying how to start
// one; -short skips them too (go tool task test:short: no database).
func cqlHosts(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a CQL server; -short runs no database tests")
	}
	if h, ok := os.LookupEnv("SCYLLA_HOSTS"); ok {
		return projection.ParseHosts(h)
	}
	c, err := net.DialTimeout("tcp", "127.0.0.1:9042", time.Second)
	if err != nil {
		t.Skip("no CQL server: set SCYLLA_HOSTS or run `bash scripts/cassandra.sh start`")
	}
	c.Close()
	return []string{"127.0.0.1:9042"}
}

// testConfig is a config on a keyspace of its own, dropped at the end.
// testConsumer names the projector's consumer in tests, which each have
// a server of their own.
const testConsumer = "projector"

func testConfig(t testing.TB) projection.Config {
	t.Helper()
	cfg := projection.DefaultConfig()
	cfg.Hosts = cqlHosts(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg.Keyspace = "inv_test_" + hex.EncodeToString(b)
	cfg.Logger = testLogger()
	cfg.Consumer = testConsumer
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := projection.DropKeyspace(ctx, cfg); err != nil {
			t.Logf("drop keyspace %s: %v", cfg.Keyspace, err)
		}
	})
	return cfg
}

// openStore connects a store on a fresh keyspace.
func openStore(t testing.TB) (*projection.Store, projection.Config) {
	t.Helper()
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := projection.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, cfg
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	poll.Until(t, within, what, func() error {
		if !cond() {
			return errors.New("not yet")
		}
		return nil
	})
}

// at is a time with the millisecond precision of a CQL timestamp.
func at(sec int64) time.Time { return time.Unix(1_700_000_000+sec, 0).UTC() }

func pos(loc, sku string, adjusted, reserved int64, seq uint64) sellable.Position {
	return sellable.Position{
		LocationID: loc, SKU: sku,
		Count: adjusted - reserved, OnHand: adjusted, Reserved: reserved,
		Seq: seq, UpdatedAt: at(int64(seq)),
	}
}

// cassandra runs the repo's script: start, stop, status.
func cassandra(t testing.TB, cmd string) {
	t.Helper()
	out, err := exec.Command("bash", "../scripts/cassandra.sh", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("cassandra.sh %s: %v\n%s", cmd, err, out)
	}
}

// testLogger shows warnings and errors: what a failing test needs.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
