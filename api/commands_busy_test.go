package api_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// A command that finds every slot of the publish window awaiting an ack
// is answered 503 with Retry-After, not held until a slot frees. The
// server's subscriber swallows adjustments, so the first command's ack
// never comes and it holds the only slot.
func TestFullPublishWindowGets503WithRetryAfter(t *testing.T) {
	s := natstest.Start(t)
	var got atomic.Int64
	if _, err := s.NC.Subscribe(streams.EventSubjectFilter(sellable.Adjustment), func(*nats.Msg) { got.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := s.NC.Flush(); err != nil {
		t.Fatal(err)
	}
	e := api.NewServer(slog.New(slog.DiscardHandler))
	api.RegisterCommands(e, command.NewService(s.JS, wire.JSON{}, 8, command.WithAsyncWindow(1)))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	post := func() *http.Response {
		resp, err := http.Post(srv.URL+"/inventory/adjustment", "application/json",
			strings.NewReader(`{"locationId":"L","sku":"S","count":1}`))
		if err != nil {
			t.Error(err)
			return nil
		}
		resp.Body.Close()
		return resp
	}
	first := make(chan *http.Response, 1)
	go func() { first <- post() }()
	poll.Until(t, 5*time.Second, "first command sent", func() error {
		if got.Load() < 1 {
			return errors.New("not yet")
		}
		return nil
	})
	resp := post()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("window full: %d, Retry-After %q; want 503 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The first, whose ack never came, is a 503 too, but not "busy":
	// nothing says it would be stored a second later.
	if r := <-first; r == nil || r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "" {
		t.Fatalf("lost ack: %v, want 503 without Retry-After", r)
	}
}
