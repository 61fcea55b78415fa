package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sellable/inventory/api"
)

// TestRequestsAreValidatedAgainstTheDocument: what the document refuses
// in parameters and media types is refused before any handler runs, in
// the house error shape naming the parameter, and nothing is stored.
func TestRequestsAreValidatedAgainstTheDocument(t *testing.T) {
	s := newStack(t)
	cmd := `{"locationId":"STL","sku":"val","count":1}`
	send := func(method, path, body string, hdr http.Header) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, s.http.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = hdr
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
		return resp.StatusCode, decodeObject(t, resp.Body)
	}
	jsonType := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name, method, path, body string
		hdr                      http.Header
		status                   int
		field                    string
	}{
		{"a body in another media type", http.MethodPost, "/inventory/adjustment", cmd,
			http.Header{"Content-Type": {"text/plain"}}, http.StatusUnsupportedMediaType, "Content-Type"},
		{"a batch in another media type", http.MethodPost, "/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"STL","sku":"val","count":1}]}`,
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, http.StatusUnsupportedMediaType, "Content-Type"},
		{"a media type that does not parse", http.MethodPost, "/inventory/reservation", cmd,
			http.Header{"Content-Type": {"application/json; ="}}, http.StatusUnsupportedMediaType, "Content-Type"},
		{"a SKU over 128 characters in the path", http.MethodGet, queryPath("STL", strings.Repeat("x", 129)), "",
			nil, http.StatusBadRequest, "sku"},
		{"a control character in the location", http.MethodGet, queryPath("S\x01L", "x"), "",
			nil, http.StatusBadRequest, "locationId"},
		{"an Idempotency-Key over 128 characters", http.MethodPost, "/inventory/adjustment", cmd,
			http.Header{"Content-Type": {"application/json"}, api.IdempotencyHeader: {strings.Repeat("k", 129)}}, http.StatusBadRequest, api.IdempotencyHeader},
		{"an Idempotency-Key sent twice", http.MethodPost, "/inventory/adjustment", cmd,
			http.Header{"Content-Type": {"application/json"}, api.IdempotencyHeader: {"a", "b"}}, http.StatusBadRequest, api.IdempotencyHeader},
		{"a batch Idempotency-Key over 100 characters", http.MethodPost, "/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"STL","sku":"val","count":1}]}`,
			http.Header{"Content-Type": {"application/json"}, api.IdempotencyHeader: {strings.Repeat("k", 101)}}, http.StatusBadRequest, api.IdempotencyHeader},
	}
	for _, c := range cases {
		status, body := send(c.method, c.path, c.body, c.hdr)
		if status != c.status || body["field"] != c.field || body["error"] == "" {
			t.Errorf("%s: %d %v, want %d naming %s", c.name, status, body, c.status, c.field)
		}
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("refused requests stored %d events", n)
	}
	// The seed's clients sent no Content-Type and were answered: they
	// still are, and so is JSON with parameters.
	for _, hdr := range []http.Header{{}, {"Content-Type": {"application/json; charset=utf-8"}}, jsonType} {
		if status, body := send(http.MethodPost, "/inventory/adjustment", cmd, hdr); status != http.StatusCreated {
			t.Errorf("POST with %v: %d %v", hdr, status, body)
		}
	}
}

// A page size that is not an integer is refused naming limit.
func TestListLimitIsValidated(t *testing.T) {
	e := api.NewServer(slog.New(slog.DiscardHandler))
	api.RegisterList(e, nil) // refused before the handler needs a lister
	srv := serveEcho(t, e)
	for _, limit := range []string{"abc", "1.5", "1e3"} {
		resp, err := http.Get(srv + "/inventory/locations/STL/skus?limit=" + url.QueryEscape(limit))
		if err != nil {
			t.Fatal(err)
		}
		body := decodeObject(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || body["field"] != "limit" {
			t.Errorf("limit=%q: %d %v, want 400 naming limit", limit, resp.StatusCode, body)
		}
	}
}

func decodeObject(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("body %q is not a JSON object", raw)
	}
	return out
}
