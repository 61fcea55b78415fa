package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/commands"
)

// BenchmarkServerMiddleware is what NewServer's middleware (recover, the
// request log, the latency metric) costs a request whose handler does
// nothing: a POST answered 204 through the whole Echo stack.
func BenchmarkServerMiddleware(b *testing.B) {
	e := NewServer(slog.New(slog.DiscardHandler))
	e.POST("/bench/nothing", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	req := httptest.NewRequest(http.MethodPost, "/bench/nothing", nil)
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rec.Body.Reset()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkCommandRoute is a single command's route up to its handler:
// the body limit, the parameter and media type check (commandCheck, or
// kin-openapi as validateOp did before), the generated wrapper reading
// Idempotency-Key, and the body decoded; no recording.
func BenchmarkCommandRoute(b *testing.B) {
	const body = `{"locationId":"wrk-L1","sku":"wrk-000001","count":"1"}`
	for _, mw := range []struct {
		name     string
		mw       echo.MiddlewareFunc
		composed bool // the middleware applied once (composedRouter), not per request
	}{{"document", validateOp("adjust"), false}, {"hand", commandCheck("adjust"), false}, {"hand-composed", commandCheck("adjust"), true}} {
		b.Run(mw.name, func(b *testing.B) {
			e := echo.New()
			var router commands.EchoRouter = e
			if mw.composed {
				router = composedRouter{e}
			}
			router.POST("/inventory/adjustment", func(c echo.Context) error {
				if _, err := decodeCommand(c.Request().Body); err != nil {
					return err
				}
				return c.NoContent(http.StatusNoContent)
			}, limitBody(MaxBodyBytes), mw.mw)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/inventory/adjustment", nil)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(IdempotencyHeader, "0f8fad5b-d9cb-469f-a165-70867728950e")
			req.ContentLength = int64(len(body))
			r := strings.NewReader(body)
			rc := io.NopCloser(r)
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(body)
				req.Body = rc
				rec.Body.Reset()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Fatal(rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkCommandAnswer is the answer of a single command through Echo:
// c.JSON (encoding/json, as before) against appendCommandAnswer into a
// pooled buffer served with c.Blob (as record does).
func BenchmarkCommandAnswer(b *testing.B) {
	r := CommandResponse{LocationID: "wrk-L1", SKU: "wrk-000001", Count: 1, Stream: "INVENTORY", Seq: 123456, Partition: 3}
	e := echo.New()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/inventory/adjustment", nil)
	for _, enc := range []struct {
		name  string
		write func(c echo.Context) error
	}{
		{"json", func(c echo.Context) error { return c.JSON(http.StatusCreated, r) }},
		{"append", func(c echo.Context) error {
			buf := answerBuffers.Get().(*[]byte)
			*buf = appendCommandAnswer((*buf)[:0], r)
			err := c.Blob(http.StatusCreated, echo.MIMEApplicationJSON, *buf)
			answerBuffers.Put(buf)
			return err
		}},
	} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec.Body.Reset()
				c := e.NewContext(req, rec)
				if err := enc.write(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
