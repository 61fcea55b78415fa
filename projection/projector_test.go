package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// runService starts a real NATS with the streams and a projection
// service on cfg, stopped (and waited for) at the end of the test.
func runService(t *testing.T, cfg projection.Config) (jetstream.JetStream, *projection.Service) {
	t.Helper()
	srv := stacktest.Start(t, 0)
	svc, err := projection.New(srv.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return srv.JS, svc
}

func publish(t testing.TB, js jetstream.JetStream, p sellable.Position) {
	t.Helper()
	m, err := wire.ChangeMsg(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// caughtUp reports whether the projector has settled every stored change.
func caughtUp(t testing.TB, js jetstream.JetStream) bool {
	t.Helper()
	c, err := js.Consumer(context.Background(), streams.SellableStream, testConsumer)
	if err != nil {
		return false
	}
	info, err := c.Info(context.Background())
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

// has reports whether r serves exactly want.
func has(r *projection.Reader, want sellable.Position) bool {
	got, err := r.Get(context.Background(), want.LocationID, want.SKU)
	return err == nil && got == want
}

func TestProjectorFollowsStream(t *testing.T) {
	cfg := testConfig(t)
	js, svc := runService(t, cfg)
	r := svc.Reader()

	var want []sellable.Position
	for i := range 200 {
		p := pos(fmt.Sprint("L", i%4), fmt.Sprint("s", i), int64(i+1), 0, uint64(i+1))
		want = append(want, p)
		publish(t, js, p)
	}
	eventually(t, time.Minute, "200 changes projected", func() bool {
		for _, p := range want {
			if !has(r, p) {
				return false
			}
		}
		return true
	})

	// A newer value, then an older one of the same position (say a
	// republish after a takeover): the newer stays.
	newer, older := pos("L0", "s0", 7, 2, 1000), pos("L0", "s0", 5, 0, 500)
	publish(t, js, newer)
	eventually(t, 30*time.Second, "newer value projected", func() bool { return has(r, newer) })
	publish(t, js, older)
	eventually(t, 30*time.Second, "older value settled", func() bool { return caughtUp(t, js) })
	if !has(r, newer) {
		got, err := r.Get(t.Context(), "L0", "s0")
		t.Fatalf("older change won: %+v, %v", got, err)
	}

	// What cannot be decoded, or names another position than its
	// subject, is terminated and blocks nothing.
	if _, err := js.Publish(t.Context(), "inventory.sellable.L0.bad", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	lie, _ := json.Marshal(wire.ChangeOf(pos("L1", "s1", 999, 0, 2000)))
	if _, err := js.Publish(t.Context(), "inventory.sellable.L2.other", lie); err != nil {
		t.Fatal(err)
	}
	after := pos("L3", "s3", 9, 1, 3000)
	publish(t, js, after)
	eventually(t, 30*time.Second, "every change settled", func() bool { return caughtUp(t, js) && has(r, after) })
	if !has(r, want[1]) {
		t.Fatal("a change naming another position was written")
	}
	if _, err := r.Get(t.Context(), "L0", "bad"); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("bad message: %v", err)
	}

	t.Run("http", func(t *testing.T) { testHTTP(t, svc.Reader(), js) })
}

// testHTTP drives the query API over the projection written above:
// L1 holds s1, s5, …, s197 (50 SKUs).
func testHTTP(t *testing.T, r *projection.Reader, js jetstream.JetStream) {
	e := api.NewServer(testLogger())
	events := query.NewEventLog(js, nil)
	api.RegisterQueries(e, query.NewReader(r, events), events, r)
	api.RegisterList(e, r)
	get := func(path string) (int, []byte) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code, rec.Body.Bytes()
	}
	var avail api.SKUResponse
	if code, body := get("/inventory/skus/s5"); code != http.StatusOK || json.Unmarshal(body, &avail) != nil ||
		len(avail.Locations) != 1 || avail.Locations[0].LocationID != "L1" || avail.Totals.Sellable != avail.Locations[0].Sellable {
		t.Fatalf("by sku: %d %s", code, body)
	}
	if code, body := get("/inventory/locations/L1/skus/s5"); code != http.StatusOK {
		t.Fatalf("get: %d %s", code, body)
	}
	if code, _ := get("/inventory/locations/L1/skus/nope"); code != http.StatusNotFound {
		t.Fatalf("absent: %d", code)
	}
	seen, token := 0, ""
	for range 10 {
		code, body := get("/inventory/locations/L1/skus?limit=20&pageToken=" + url.QueryEscape(token))
		var page api.ListResponse
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil || page.LocationID != "L1" {
			t.Fatalf("list: %d %s", code, body)
		}
		seen += len(page.Items)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if seen != 50 {
		t.Fatalf("listed %d SKUs of L1, want 50", seen)
	}
	for _, q := range []string{"limit=abc", "limit=", "limit=0", "limit=100000", "pageToken=%21%21"} {
		if code, body := get("/inventory/locations/L1/skus?" + q); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", q, code, body)
		}
	}
}
