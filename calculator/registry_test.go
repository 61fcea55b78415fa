package calculator_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// serveRegistry serves store's HTTP API on addr until the returned stop.
func serveRegistry(t *testing.T, store *registry.Store, addr string) (stop func()) {
	t.Helper()
	var ln net.Listener
	poll.Until(t, 5*time.Second, "listen "+addr, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	e := echo.New()
	registry.NewHandler(store, nil).Register(e)
	srv := &http.Server{Handler: e}
	go func() { _ = srv.Serve(ln) }()
	stop = func() { _ = srv.Close() }
	t.Cleanup(stop)
	return stop
}

// withNote is the adjustment schema with one more optional field: what a
// newer producer writes.
func withNote(t *testing.T) string {
	var s map[string]any
	if err := json.Unmarshal([]byte(wire.Schemas()[wire.SubjectAdjustments]), &s); err != nil {
		t.Fatal(err)
	}
	s["fields"] = append(s["fields"].([]any), map[string]any{
		"name": "note", "type": []any{"null", "string"}, "default": nil, "doc": "free text",
	})
	b, _ := json.Marshal(s)
	return string(b)
}

// An event written with a schema this calculator has not seen, while the
// registry is down, is not the event's fault: it must wait for the
// registry and then apply, never be dead-lettered.
func TestRegistryOutageDelaysButNeverDeadLetters(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	store := e.Registry(t)
	addr := freeAddr(t)
	stop := serveRegistry(t, store, addr)
	client, err := registry.NewClient("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	events, err := wire.NewAvroEvents(ctx, client, wire.AvroConfig{FetchTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	logged := &errorLog{}
	e.startCalculatorWith(t, "c1", wire.NewCodecs(events), slog.New(logged))

	newer, err := wire.NewAvroEvents(ctx, registry.Local{Store: store}, wire.AvroConfig{AdjustmentSchema: withNote(t)})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	k := sellable.Key{LocationID: "STL", SKU: "evolved"}
	data, err := newer.EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: k, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(streams.EventSubject(sellable.Adjustment, k))
	msg.Data = data
	msg.Header.Set(streams.HeaderContentType, newer.ContentType())
	ack, err := e.JS.PublishMsg(ctx, msg)
	if err != nil {
		t.Fatal(err)
	}

	poll.Until(t, 10*time.Second, "calculator meets the outage", func() error {
		if !logged.saw(wire.ErrRegistry.Error()) {
			return errors.New("no registry error logged yet")
		}
		return nil
	})
	serveRegistry(t, store, addr)
	e.wantPosition(t, k.LocationID, k.SKU, 4, ack.Sequence)
	dlq, err := e.JS.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := dlq.Info(ctx); err != nil || info.State.Msgs != 0 {
		t.Fatalf("dead letters: %+v, %v", info.State, err)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// errorLog remembers the errors logged, to see what the calculator met.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler            { return l }
func (l *errorLog) WithGroup(string) slog.Handler                 { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		l.errs = append(l.errs, a.Value.String())
		return true
	})
	return nil
}

func (l *errorLog) saw(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		if strings.Contains(e, s) {
			return true
		}
	}
	return false
}
