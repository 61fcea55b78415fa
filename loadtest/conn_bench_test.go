package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sellable/inventory/sellable"
)

// The client side of the load tool's hot loops, against a server that
// answers canned bodies at once, so that what differs between two
// versions of httpClient is the client's own work (building the request,
// reading and decoding the answer). BENCHMARKS.md, "The load tool on the
// generated client", compares the generated client with the hand-written
// calls it replaced.
func benchServer(b *testing.B) *httpClient {
	b.Helper()
	pos := []byte(`{"locationId":"loadtest-L2","sku":"loadtest-000042","count":90,"adjusted":100,"reserved":10,"seq":12345,"updatedAt":"2026-11-26T21:50:24.123Z"}`)
	stored := []byte(`{"locationId":"loadtest-L2","sku":"loadtest-000042","count":1,"stream":"INVENTORY","seq":12345,"partition":2,"duplicate":false}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			_, _ = w.Write(pos)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(stored)
	}))
	b.Cleanup(srv.Close)
	return newBenchClient(b, srv.URL)
}

func newBenchClient(b *testing.B, url string) *httpClient {
	h, err := newHTTPClient(url, 4)
	if err != nil {
		b.Fatal(err)
	}
	return h
}

var benchKey = sellable.Key{LocationID: "loadtest-L2", SKU: "loadtest-000042"}

func BenchmarkHTTPClientGet(b *testing.B) {
	h, ctx := benchServer(b), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if seq, err := h.get(ctx, benchKey); err != nil || seq != 12345 {
			b.Fatal(seq, err)
		}
	}
}

func BenchmarkHTTPClientPost(b *testing.B) {
	h, ctx := benchServer(b), context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if seq, err := h.post(ctx, sellable.Adjustment, benchKey, 1); err != nil || seq != 12345 {
			b.Fatal(seq, err)
		}
	}
}
