package app_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
)

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// connect is app.Connect logging into a buffer, with a signal once the
// connection's callbacks are through (closed comes after disconnected).
func connect(t *testing.T, url string) (*nats.Conn, *logBuffer, chan struct{}) {
	t.Helper()
	var logs logBuffer
	closed := make(chan struct{})
	nc, _, err := app.Connect(url, "test", slog.New(slog.NewTextHandler(&logs, nil)),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, &logs, closed
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
