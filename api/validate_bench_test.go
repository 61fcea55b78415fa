package api

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// BenchmarkValidation is what request validation adds to one request,
// alone: Echo routes to a handler that reads the body and answers 204,
// with no validation, with validateOp (parameters and media type, what
// the servers run) and with kin-openapi validating the body as well
// (what validateOp leaves to the hand-written decoders).
func BenchmarkValidation(b *testing.B) {
	var batch strings.Builder
	batch.WriteString(`{"commands":[`)
	for i := range 100 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"type":"adjustment","locationId":"STL","sku":"bench-%d","count":5}`, i)
	}
	batch.WriteString(`]}`)
	requests := []struct{ op, method, route, path, body string }{
		{"getPosition", http.MethodGet, "/inventory/locations/:location/skus/:sku", "/inventory/locations/STL/skus/bench-1", ""},
		{"adjust", http.MethodPost, "/inventory/adjustment", "/inventory/adjustment", `{"locationId":"STL","sku":"bench-1","count":"5"}`},
		{"batch", http.MethodPost, "/inventory/batch", "/inventory/batch", batch.String()},
	}
	withBody := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
	for _, r := range requests {
		for _, v := range []struct {
			name string
			mw   []echo.MiddlewareFunc
		}{
			{"none", nil},
			{"parameters", []echo.MiddlewareFunc{validateOp(r.op)}},
			{"parameters+body", []echo.MiddlewareFunc{validateWith(r.op, withBody)}},
		} {
			if r.body == "" && v.name == "parameters+body" {
				continue
			}
			b.Run(r.op+"/"+v.name, func(b *testing.B) {
				e := echo.New()
				e.HTTPErrorHandler = func(err error, c echo.Context) { b.Fatalf("%s: %v", r.op, err) }
				e.Add(r.method, r.route, func(c echo.Context) error {
					_, _ = io.Copy(io.Discard, c.Request().Body)
					return c.NoContent(http.StatusNoContent)
				}, v.mw...)
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
					if r.body != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					rec := httptest.NewRecorder()
					e.ServeHTTP(rec, req)
					if rec.Code != http.StatusNoContent {
						b.Fatalf("%d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
