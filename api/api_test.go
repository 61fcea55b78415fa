package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/streams"
)

type stack struct {
	sys  *systemtest.System
	http *httptest.Server
}

// newStack serves the command and query API over a real embedded server
// with a calculator running, as the all-in-one does.
func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackLog(t, slog.New(slog.DiscardHandler))
}

// newStackLog is newStack with the API logging to log.
func newStackLog(t *testing.T, log *slog.Logger) *stack {
	t.Helper()
	sys := systemtest.Start(t, systemtest.Config{})
	sys.StartCalculator(t, nil, nil)
	return &stack{sys: sys, http: sys.ServeAPI(t, log)}
}

func (s *stack) do(t *testing.T, method, path, body string, hdr ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: status %d, body %q is not a JSON object", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func (s *stack) storedEvents(t *testing.T) uint64 {
	t.Helper()
	st, err := s.sys.JS.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func queryPath(loc, sku string) string {
	return "/inventory/locations/" + url.PathEscape(loc) + "/skus/" + url.PathEscape(sku)
}

// waitCount polls the query API until the position shows count.
func (s *stack) waitCount(t *testing.T, loc, sku string, count float64) map[string]any {
	t.Helper()
	var body map[string]any
	poll.Until(t, 10*time.Second, "GET "+loc+"/"+sku, func() error {
		var status int
		status, body = s.do(t, http.MethodGet, queryPath(loc, sku), "")
		if status == http.StatusOK && body["count"] == count {
			return nil
		}
		return fmt.Errorf("%d %v, want count %v", status, body, count)
	})
	return body
}

func TestWalkthrough(t *testing.T) {
	s := newStack(t)
	status, body := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"STL","sku":"123123", "count": "100"}`)
	if status != http.StatusCreated || body["seq"] == nil || body["partition"] == nil {
		t.Fatalf("adjustment: %d %v", status, body)
	}
	if status, body = s.do(t, http.MethodPost, "/inventory/reservation", `{"locationId":"STL","sku":"123123", "count": "10"}`); status != http.StatusCreated {
		t.Fatalf("reservation: %d %v", status, body)
	}
	got := s.waitCount(t, "STL", "123123", 90)
	if got["locationId"] != "STL" || got["sku"] != "123123" || got["adjusted"] != 100.0 || got["reserved"] != 10.0 || got["updatedAt"] == nil {
		t.Fatalf("query: %v", got)
	}
	s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"STL","sku":"123123", "count": 100}`)
	s.waitCount(t, "STL", "123123", 190)
}

func TestBadCommandsGet400NamingTheFieldAndStoreNothing(t *testing.T) {
	s := newStack(t)
	cases := []struct {
		path, body, field string
	}{
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1","count":0}`, "count"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1"}`, "count"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1","count":"ten"}`, "count"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1","count":1.5}`, "count"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1","count":1000000001}`, "count"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"1","count":99999999999999999999999}`, "count"},
		{"/inventory/reservation", `{"locationId":"STL","sku":"1","count":-1}`, "count"},
		{"/inventory/reservation", `{"locationId":"STL","sku":"1","count":"0"}`, "count"},
		{"/inventory/adjustment", `{"sku":"1","count":1}`, "locationId"},
		{"/inventory/adjustment", `{"locationId":"","sku":"1","count":1}`, "locationId"},
		{"/inventory/adjustment", `{"locationId":7,"sku":"1","count":1}`, "locationId"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"` + strings.Repeat("x", 129) + `","count":1}`, "sku"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"a\u0000b","count":1}`, "sku"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":null,"count":1}`, "sku"},
		{"/inventory/adjustment", `[1,2]`, "body"},
		{"/inventory/adjustment", `{"locationId":`, "body"},
		{"/inventory/adjustment", ``, "body"},
		{"/inventory/adjustment", `null`, "body"},
	}
	for _, c := range cases {
		status, body := s.do(t, http.MethodPost, c.path, c.body)
		if status != http.StatusBadRequest || body["field"] != c.field || body["error"] == "" {
			t.Errorf("POST %s %s: %d %v, want 400 naming %q", c.path, c.body, status, body, c.field)
		}
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("bad commands stored %d events", n)
	}
}

func TestOversizedBodyGets413(t *testing.T) {
	s := newStack(t)
	big := `{"locationId":"STL","sku":"1","count":1,"pad":"` + strings.Repeat("x", 70<<10) + `"}`
	status, body := s.do(t, http.MethodPost, "/inventory/adjustment", big)
	if status != http.StatusRequestEntityTooLarge || body["error"] == nil {
		t.Fatalf("oversized: %d %v", status, body)
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("oversized body stored %d events", n)
	}
}

func TestUnknownPositionGets404(t *testing.T) {
	s := newStack(t)
	status, body := s.do(t, http.MethodGet, queryPath("STL", "none"), "")
	if status != http.StatusNotFound || body["error"] == nil {
		t.Fatalf("unknown: %d %v", status, body)
	}
}

// Any identifier the command side accepts reads back through the URL.
func TestIdentifiersAreDataNotSyntax(t *testing.T) {
	s := newStack(t)
	ids := []string{"a.b", "*", ">", "x y", "50%", "a/b", "東京", "=41", "..", "?q=1#f", "tab\tx"}
	for i, id := range ids {
		loc := "L" + id
		body, _ := json.Marshal(map[string]any{"locationId": loc, "sku": id, "count": i + 1})
		if status, resp := s.do(t, http.MethodPost, "/inventory/adjustment", string(body)); status != http.StatusCreated {
			if strings.Contains(id, "\t") && status == http.StatusBadRequest {
				continue // control characters are refused, by design
			}
			t.Fatalf("POST %q: %d %v", id, status, resp)
		}
	}
	for i, id := range ids {
		if strings.Contains(id, "\t") {
			continue
		}
		got := s.waitCount(t, "L"+id, id, float64(i+1))
		if got["locationId"] != "L"+id || got["sku"] != id {
			t.Fatalf("read back %q: %v", id, got)
		}
	}
}

func TestIdempotencyKeyStoresOnce(t *testing.T) {
	s := newStack(t)
	cmd := `{"locationId":"STL","sku":"idem","count":5}`
	status1, b1 := s.do(t, http.MethodPost, "/inventory/adjustment", cmd, api.IdempotencyHeader, "order-42")
	status2, b2 := s.do(t, http.MethodPost, "/inventory/adjustment", cmd, api.IdempotencyHeader, "order-42")
	if status1 != http.StatusCreated || status2 != http.StatusOK || b2["duplicate"] != true || b1["seq"] != b2["seq"] {
		t.Fatalf("first %d %v, retry %d %v", status1, b1, status2, b2)
	}
	s.waitCount(t, "STL", "idem", 5)
	if n := s.storedEvents(t); n != 1 {
		t.Fatalf("stored %d events, want 1", n)
	}
}

// Without NATS nothing can be stored: 503, never a 2xx.
func TestNATSDownGets503(t *testing.T) {
	s := newStack(t)
	s.sys.Shutdown()
	s.sys.WaitForShutdown()
	status, body := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"STL","sku":"1","count":1}`)
	if status != http.StatusServiceUnavailable || body["error"] == nil {
		t.Fatalf("NATS down: %d %v", status, body)
	}
	status, body = s.do(t, http.MethodGet, queryPath("STL", "1"), "")
	if status != http.StatusServiceUnavailable {
		t.Fatalf("query with NATS down: %d %v", status, body)
	}
}

func TestBatchStoresEveryCommandOrNone(t *testing.T) {
	s := newStack(t)
	body := `{"commands":[
		{"type":"adjustment","locationId":"B","sku":"1","count":"100"},
		{"type":"reservation","locationId":"B","sku":"1","count":10},
		{"type":"adjustment","locationId":"B","sku":"2","count":5}]}`
	status, out := s.do(t, http.MethodPost, "/inventory/batch", body, api.IdempotencyHeader, "receipt-7")
	results, _ := out["results"].([]any)
	if status != http.StatusCreated || len(results) != 3 {
		t.Fatalf("batch: %d %v", status, out)
	}
	s.waitCount(t, "B", "1", 90)
	s.waitCount(t, "B", "2", 5)

	// The same batch again, as after a timeout: stored once.
	status, out = s.do(t, http.MethodPost, "/inventory/batch", body, api.IdempotencyHeader, "receipt-7")
	if status != http.StatusCreated || out["results"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Fatalf("retried batch: %d %v", status, out)
	}
	if n := s.storedEvents(t); n != 3 {
		t.Fatalf("stored %d events, want 3", n)
	}

	bad := []struct{ body, field string }{
		{`{"commands":[{"type":"adjustment","locationId":"B","sku":"3","count":1},{"type":"reservation","locationId":"B","sku":"3","count":0}]}`, "commands[1].count"},
		{`{"commands":[{"type":"refund","locationId":"B","sku":"3","count":1}]}`, "commands[0].type"},
		{`{"commands":[{"locationId":"B","sku":"3","count":1}]}`, "commands[0].type"},
		{`{"commands":[{"type":"adjustment","sku":"3","count":1}]}`, "commands[0].locationId"},
		{`{"commands":[7]}`, "body"},
		{`{"commands":[]}`, "commands"},
		{`[]`, "body"},
	}
	for _, b := range bad {
		status, out := s.do(t, http.MethodPost, "/inventory/batch", b.body)
		if status != http.StatusBadRequest || out["field"] != b.field {
			t.Errorf("%s: %d %v, want 400 naming %s", b.body, status, out, b.field)
		}
	}
	var many strings.Builder
	many.WriteString(`{"commands":[`)
	for i := 0; i <= api.MaxBatch; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`{"type":"adjustment","locationId":"B","sku":"4","count":1}`)
	}
	many.WriteString(`]}`)
	if status, out := s.do(t, http.MethodPost, "/inventory/batch", many.String()); status/100 != 4 {
		t.Errorf("oversized batch: %d %v", status, out)
	}
	if n := s.storedEvents(t); n != 3 {
		t.Fatalf("invalid batches stored %d events", n-3)
	}
}

// The scenario of issue 9: one key, two different requests. The second is
// refused with 422 naming the header, and stores nothing.
func TestIdempotencyKeyIsScopedToTheRequest(t *testing.T) {
	s := newStack(t)
	status, first := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"STL","sku":"A","count":5}`, api.IdempotencyHeader, "1")
	if status != http.StatusCreated {
		t.Fatalf("first: %d %v", status, first)
	}
	reused := []struct{ path, body string }{
		{"/inventory/reservation", `{"locationId":"NYC","sku":"B","count":3}`},                              // other endpoint, other body
		{"/inventory/adjustment", `{"locationId":"NYC","sku":"B","count":3}`},                               // same endpoint, other body
		{"/inventory/adjustment", `{"locationId":"STL","sku":"A","count":6}`},                               // only the count differs
		{"/inventory/reservation", `{"locationId":"STL","sku":"A","count":5}`},                              // same body, other endpoint
		{"/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"STL","sku":"A","count":5}]}`}, // same command, other endpoint
	}
	for _, r := range reused {
		status, body := s.do(t, http.MethodPost, r.path, r.body, api.IdempotencyHeader, "1")
		msg, _ := body["error"].(string)
		if status != http.StatusUnprocessableEntity || body["field"] != api.IdempotencyHeader ||
			!strings.Contains(msg, api.IdempotencyHeader) || !strings.Contains(msg, "different request") {
			t.Errorf("POST %s %s with a used key: %d %v, want 422 naming %s", r.path, r.body, status, body, api.IdempotencyHeader)
		}
	}
	if n := s.storedEvents(t); n != 1 {
		t.Fatalf("stored %d events, want the first adjustment only", n)
	}
	s.waitCount(t, "STL", "A", 5)
	if status, body := s.do(t, http.MethodGet, queryPath("NYC", "B"), ""); status != http.StatusNotFound {
		t.Fatalf("NYC/B: %d %v, want nothing recorded", status, body)
	}
}

// A retry of the same request answers the original result: its sequence
// and partition, not those of anything stored since.
func TestIdempotentRetryAnswersTheOriginal(t *testing.T) {
	s := newStack(t)
	cmd := `{"locationId":"STL","sku":"orig","count":"7"}`
	status, first := s.do(t, http.MethodPost, "/inventory/reservation", cmd, api.IdempotencyHeader, "k")
	if status != http.StatusCreated || first["duplicate"] != false {
		t.Fatalf("first: %d %v", status, first)
	}
	if status, b := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"NYC","sku":"other","count":1}`); status != http.StatusCreated {
		t.Fatalf("unrelated: %d %v", status, b)
	}
	// The same request, the count spelt as a number this time.
	status, again := s.do(t, http.MethodPost, "/inventory/reservation", `{"locationId":"STL","sku":"orig","count":7}`, api.IdempotencyHeader, "k")
	if status != http.StatusOK || again["duplicate"] != true || again["seq"] != first["seq"] || again["partition"] != first["partition"] ||
		again["stream"] != first["stream"] || again["locationId"] != "STL" || again["sku"] != "orig" || again["count"] != 7.0 {
		t.Fatalf("retry: %d %v, want 200 duplicate of %v", status, again, first)
	}
	if n := s.storedEvents(t); n != 2 {
		t.Fatalf("stored %d events, want 2", n)
	}
}

// A single command keyed "r/0" and element 0 of a batch keyed "r" are two
// requests: both are stored, whichever comes first; so are "x/1" and
// element 1 of batch "x".
func TestBatchAndSingleCommandKeysNeverCollide(t *testing.T) {
	s := newStack(t)
	batch := `{"commands":[{"type":"adjustment","locationId":"C","sku":"1","count":1},{"type":"adjustment","locationId":"C","sku":"2","count":2}]}`
	single := `{"locationId":"C","sku":"1","count":1}`

	if status, b := s.do(t, http.MethodPost, "/inventory/adjustment", single, api.IdempotencyHeader, "r/0"); status != http.StatusCreated {
		t.Fatalf("single r/0: %d %v", status, b)
	}
	status, out := s.do(t, http.MethodPost, "/inventory/batch", batch, api.IdempotencyHeader, "r")
	if status != http.StatusCreated {
		t.Fatalf("batch r: %d %v", status, out)
	}
	for i, r := range out["results"].([]any) {
		if r.(map[string]any)["duplicate"] != false {
			t.Fatalf("batch r result %d is a duplicate of another request: %v", i, out)
		}
	}
	if status, out = s.do(t, http.MethodPost, "/inventory/batch", batch, api.IdempotencyHeader, "x"); status != http.StatusCreated {
		t.Fatalf("batch x: %d %v", status, out)
	}
	for _, k := range []string{"x/0", "x/1"} {
		if status, b := s.do(t, http.MethodPost, "/inventory/adjustment", single, api.IdempotencyHeader, k); status != http.StatusCreated || b["duplicate"] != false {
			t.Fatalf("single %s after batch x: %d %v", k, status, b)
		}
	}
	if n := s.storedEvents(t); n != 7 {
		t.Fatalf("stored %d events, want 7", n)
	}
	s.waitCount(t, "C", "1", 5)
}

// A batch key reused for another batch is refused before any of it is
// stored; the same batch again answers every original.
func TestBatchKeyReusedForAnotherBatchStoresNothing(t *testing.T) {
	s := newStack(t)
	body := `{"commands":[{"type":"adjustment","locationId":"D","sku":"1","count":10},{"type":"reservation","locationId":"D","sku":"2","count":1}]}`
	status, first := s.do(t, http.MethodPost, "/inventory/batch", body, api.IdempotencyHeader, "feed-1")
	if status != http.StatusCreated {
		t.Fatalf("first: %d %v", status, first)
	}
	others := []string{
		// Element 0 and 1 as before, plus one more.
		`{"commands":[{"type":"adjustment","locationId":"D","sku":"1","count":10},{"type":"reservation","locationId":"D","sku":"2","count":1},{"type":"adjustment","locationId":"D","sku":"3","count":5}]}`,
		// Element 0 as before, element 1 differs.
		`{"commands":[{"type":"adjustment","locationId":"D","sku":"1","count":10},{"type":"reservation","locationId":"D","sku":"2","count":2}]}`,
		// Entirely another batch.
		`{"commands":[{"type":"adjustment","locationId":"E","sku":"9","count":1}]}`,
	}
	for _, o := range others {
		status, out := s.do(t, http.MethodPost, "/inventory/batch", o, api.IdempotencyHeader, "feed-1")
		if status != http.StatusUnprocessableEntity || out["field"] != api.IdempotencyHeader {
			t.Errorf("other batch with a used key: %d %v, want 422", status, out)
		}
	}
	if n := s.storedEvents(t); n != 2 {
		t.Fatalf("stored %d events, want the first batch's 2", n)
	}
	status, again := s.do(t, http.MethodPost, "/inventory/batch", body, api.IdempotencyHeader, "feed-1")
	if status != http.StatusCreated {
		t.Fatalf("same batch again: %d %v", status, again)
	}
	want, got := first["results"].([]any), again["results"].([]any)
	for i := range want {
		w, g := want[i].(map[string]any), got[i].(map[string]any)
		if g["duplicate"] != true || g["seq"] != w["seq"] || g["partition"] != w["partition"] {
			t.Fatalf("result %d: %v, want a duplicate of %v", i, g, w)
		}
	}
}
