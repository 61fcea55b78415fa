package app_test

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/natsembed"
)

// connect is app.Connect logging into a buffer, with a signal once the
// connection's callbacks are through (closed comes after disconnected).
func connect(t *testing.T, url string) (*nats.Conn, *logtest.Buffer, chan struct{}) {
	t.Helper()
	logs := logtest.New()
	closed := make(chan struct{})
	nc, _, err := app.Connect(url, "test", slog.New(slog.NewTextHandler(logs, nil)),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, logs, closed
}

func TestCleanShutdownDoesNotWarnOfADisconnect(t *testing.T) {
	s := natstest.Start(t)
	nc, logs, closed := connect(t, s.ClientURL())
	if err := nc.Drain(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed")
	}
	if strings.Contains(logs.String(), "disconnected") {
		t.Fatalf("clean shutdown logged: %q", logs.String())
	}
}

func TestLostServerStillWarns(t *testing.T) {
	s := natstest.Start(t)
	_, logs, _ := connect(t, s.ClientURL())
	s.Shutdown()
	poll.Until(t, 10*time.Second, "disconnect warning", func() error {
		if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "nats disconnected") {
			return fmt.Errorf("log %q", l)
		}
		return nil
	})
}

// A permission the program's role lacks is logged as such: otherwise the
// request only times out and the operator sees "context deadline
// exceeded".
func TestConnectLogsPermissionViolations(t *testing.T) {
	dir := t.TempDir()
	if _, err := natsauth.Generate(dir, 2); err != nil {
		t.Fatal(err)
	}
	srv, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), Users: filepath.Join(dir, natsauth.UsersFile)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	opts, err := natsauth.ClientConfig{NKeySeed: filepath.Join(dir, natsauth.SeedFile(natsauth.Publisher))}.Options()
	if err != nil {
		t.Fatal(err)
	}
	logs := logtest.New()
	nc, _, err := app.Connect(srv.ClientURL(), "test", logs.Logger(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if err := nc.Publish("$KV.sellable_p0.x", nil); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "the permission error logged", func() error {
		if !strings.Contains(logs.String(), "lacks a permission") || !strings.Contains(logs.String(), "$KV.sellable_p0.x") {
			return fmt.Errorf("log: %s", logs.String())
		}
		return nil
	})
}
