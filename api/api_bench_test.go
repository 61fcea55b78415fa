package api_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
)

// benchKeys is how many positions the benchmarks spread over.
const benchKeys = 100

// newBenchServer wires the command and query API exactly as the
// all-in-one does (Avro events, a calculator over 8 partitions, the
// query side on the KV buckets) on an embedded server. Requests go
// straight to Echo's ServeHTTP: the handlers, middleware and NATS, no TCP.
func newBenchServer(b *testing.B) *echo.Echo {
	b.Helper()
	sys := systemtest.Start(b, systemtest.Config{Partitions: 8, Avro: true})
	sys.StartCalculator(b, nil, nil)
	return sys.API(slog.New(slog.DiscardHandler))
}

func serve(e *echo.Echo, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func adjustment(i int) string {
	return fmt.Sprintf(`{"locationId":"STL","sku":"bench-%d","count":5}`, i%benchKeys)
}

// BenchmarkPostAdjustment is POST /inventory/adjustment to 201: decode,
// validate, encode Avro, publish and wait for the JetStream ack. Serial
// it is one round trip to the server; parallel shows how many commands
// per second the API takes with many clients.
func BenchmarkPostAdjustment(b *testing.B) {
	e := newBenchServer(b)
	post := func(b *testing.B, i int) {
		if rec := serve(e, http.MethodPost, "/inventory/adjustment", adjustment(i)); rec.Code != http.StatusCreated {
			b.Fatalf("POST: %d %s", rec.Code, rec.Body)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			post(b, i)
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(b, int(n.Add(1)))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commands/s")
	})
}

// BenchmarkPostBatch is POST /inventory/batch with 100 commands to 201:
// the same work per command as BenchmarkPostAdjustment, but one request
// and one round of asynchronous acks per hundred.
func BenchmarkPostBatch(b *testing.B) {
	e := newBenchServer(b)
	const size = 100
	var body strings.Builder
	body.WriteString(`{"commands":[`)
	for i := range size {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"type":"adjustment","locationId":"STL","sku":"bench-%d","count":5}`, i%benchKeys)
	}
	body.WriteString(`]}`)
	b.ReportAllocs()
	for b.Loop() {
		if rec := serve(e, http.MethodPost, "/inventory/batch", body.String()); rec.Code != http.StatusCreated {
			b.Fatalf("POST: %d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "commands/s")
}

// BenchmarkGetPosition is GET /inventory/locations/{loc}/skus/{sku} to
// 200: route, parameter check, and the answer from the read model (held
// after the first read of each key; BENCHMARKS.md, "Reads from memory").
func BenchmarkGetPosition(b *testing.B) {
	e := newBenchServer(b)
	for i := range benchKeys {
		if rec := serve(e, http.MethodPost, "/inventory/adjustment", adjustment(i)); rec.Code != http.StatusCreated {
			b.Fatalf("seed: %d %s", rec.Code, rec.Body)
		}
	}
	path := func(i int) string { return fmt.Sprintf("/inventory/locations/STL/skus/bench-%d", i%benchKeys) }
	next := 0 // positions before next have appeared
	poll.Until(b, 10*time.Second, "seeded positions", func() error {
		for ; next < benchKeys; next++ {
			if serve(e, http.MethodGet, path(next), "").Code != http.StatusOK {
				return fmt.Errorf("position %d not there yet", next)
			}
		}
		return nil
	})
	get := func(b *testing.B, i int) {
		if rec := serve(e, http.MethodGet, path(i), ""); rec.Code != http.StatusOK {
			b.Fatalf("GET: %d %s", rec.Code, rec.Body)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			get(b, i)
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(16)
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, int(n.Add(1)))
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}
