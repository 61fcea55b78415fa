package projection_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
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

// viewMsg is p as the calculator stores it: a put of its key in its
// partition's view bucket (of stacktest's default partition count).
func viewMsg(t testing.TB, p sellable.Position) *nats.Msg {
	t.Helper()
	k := sellable.Key{LocationID: p.LocationID, SKU: p.SKU}
	data, err := kv.EncodeValue(p)
	if err != nil {
		t.Fatal(err)
	}
	return &nats.Msg{Subject: kv.Subject(streams.Partition(k, streams.DefaultPartitions), k), Data: data}
}

// publish writes p into the view, as the calculator does.
func publish(t testing.TB, js jetstream.JetStream, p sellable.Position) {
	t.Helper()
	if _, err := js.PublishMsg(context.Background(), viewMsg(t, p)); err != nil {
		t.Fatal(err)
	}
}

// caughtUp reports whether the projector has settled every stored change
// of every partition.
func caughtUp(t testing.TB, js jetstream.JetStream) bool {
	t.Helper()
	for i := range streams.DefaultPartitions {
		c, err := js.Consumer(context.Background(), kv.StreamName(i), projection.ConsumerName(testConsumer, i))
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		if err != nil || info.NumPending != 0 || info.NumAckPending != 0 {
			return false
		}
	}
	return true
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
	// key, is terminated and blocks nothing.
	bad := viewMsg(t, pos("L0", "bad", 1, 0, 1))
	bad.Data = []byte("not json")
	lie := viewMsg(t, pos("L2", "other", 1, 0, 1))
	lie.Data = viewMsg(t, pos("L1", "s1", 999, 0, 2000)).Data
	for _, m := range []*nats.Msg{bad, lie} {
		if _, err := js.PublishMsg(t.Context(), m); err != nil {
			t.Fatal(err)
		}
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

// The projector's place is its durable consumers on the view buckets'
// streams: a projector started again (a new process) goes on from there
// with the changes written while none ran. A delete or purge marker (an
// operator deleting a view key to have it rebuilt) is skipped: acked,
// not written and not terminated as a bad change, and the row keeps its
// last value until the rebuilt value arrives.
func TestProjectorResumesFromBucketsAndSkipsMarkers(t *testing.T) {
	store, cfg := openStore(t)
	logs := logtest.New()
	cfg.Logger = logs.Logger()
	srv := stacktest.Start(t, 0)
	js := srv.JS
	r := projection.NewReader(store)
	start := func() (*projection.Projector, func()) {
		p, err := projection.NewProjector(js, store, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p, stacktest.Go(t, p.Run)
	}

	first := []sellable.Position{pos("R0", "a", 1, 0, 1), pos("R1", "b", 2, 0, 2), pos("R2", "c", 3, 0, 3)}
	for _, p := range first {
		publish(t, js, p)
	}
	p1, stop := start()
	eventually(t, time.Minute, "first values projected", func() bool {
		return has(r, first[0]) && has(r, first[1]) && has(r, first[2]) && caughtUp(t, js)
	})
	if n := p1.Written(); n != 3 {
		t.Fatalf("first projector wrote %d, want 3", n)
	}
	stop()

	// While no projector runs: a newer value, a delete and a purge.
	newer := pos("R0", "a", 10, 1, 10)
	publish(t, js, newer)
	for i, k := range []sellable.Key{{LocationID: "R1", SKU: "b"}, {LocationID: "R2", SKU: "c"}} {
		b, err := js.KeyValue(t.Context(), kv.BucketName(streams.Partition(k, streams.DefaultPartitions)))
		if err != nil {
			t.Fatal(err)
		}
		del := b.Delete
		if i == 1 {
			del = b.Purge
		}
		if err := del(t.Context(), streams.KeyToken(k)); err != nil {
			t.Fatal(err)
		}
	}

	p2, _ := start()
	eventually(t, time.Minute, "the second projector caught up", func() bool { return caughtUp(t, js) && has(r, newer) })
	if n := p2.Written(); n != 1 {
		t.Fatalf("second projector wrote %d, want 1 (the newer value only: its consumers resume, markers are skipped)", n)
	}
	if !has(r, first[1]) || !has(r, first[2]) {
		t.Fatal("a delete or purge marker changed the projected row")
	}
	if strings.Contains(logs.String(), "terminating") {
		t.Fatalf("a marker was treated as a bad change:\n%s", logs.String())
	}
}
