package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/sellable/inventory/api/gen/operations"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
)

// MaxBodyBytes bounds the body of a single command (64 KiB); larger
// ones get 413. The largest valid command is under 2 KB.
const MaxBodyBytes int64 = 64 << 10

// maxIDBytes is the longest identifier the domain accepts.
const maxIDBytes = sellable.MaxIDLength

// maxCommandBytes is the longest batch element a client's encoder writes
// for a valid command: the longest type and count, and both identifiers
// at their limit with every byte as a six-byte \u escape (Go's encoder
// writes < > & that way).
const maxCommandBytes = len(`{"type":"reservation","locationId":"","sku":"","count":"-1000000000"},`) + 2*6*maxIDBytes

// MaxBatchBodyBytes bounds the body of POST /inventory/batch: MaxBatch
// of the largest commands fit, rounded up to whole KiB (785 KiB).
const MaxBatchBodyBytes = int64((MaxBatch*maxCommandBytes + len(`{"commands":[]}`) + 1<<10 - 1) &^ (1<<10 - 1))

// NewServer is an Echo instance with the house middleware: panic
// recovery, a body limit, request logging at debug level with the
// latency metric (observe) and the JSON error handler, serving the
// operations tagged operations in openapi.yaml: /metrics, /healthz, the
// document and its page at /docs. Register handler groups on it.
func NewServer(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(log)
	e.Use(middleware.Recover())
	e.Use(observe(log))
	registerOperations(e)
	return e
}

// registerOperations mounts the operations tagged operations through
// their generated server (gen/operations). The document is embedded:
// failing to convert it is a build defect the tests catch, not a
// condition to serve around.
func registerOperations(e *echo.Echo) {
	if _, err := SpecJSON(); err != nil {
		panic(err)
	}
	operations.RegisterHandlersWithOptions(e, operationsServer{}, operations.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("operations", nil),
	})
}

// operationsServer implements the generated operations.ServerInterface
// (the document and its page: spec.go, docs.go).
type operationsServer struct{}

var _ operations.ServerInterface = operationsServer{}

var metricsHandler = echo.WrapHandler(metrics.Handler())

func (operationsServer) Metrics(c echo.Context) error { return metricsHandler(c) }

func (operationsServer) Healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// observe records each request's latency by route (the pattern, not the
// path, so identifiers do not explode the label set) and status, and
// logs the request at debug level. One middleware for both, with one
// clock reading and the series resolved once (metrics.HTTPRequestObserver),
// where Echo's request logger and a metric lookup per request were a
// dozen allocations; the log line is built only when debug is on. The
// status logged is the one answered, also for an error (Echo's logger
// logged 200 for any error but an *echo.HTTPError).
func observe(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			latency := time.Since(start)
			status := c.Response().Status
			if err != nil {
				status, _ = classifyRequest(c, err)
			}
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			req := c.Request()
			metrics.HTTPRequestObserver(req.Method, route, status).Observe(latency.Seconds())
			if log.Enabled(req.Context(), slog.LevelDebug) {
				log.Debug("http", "method", req.Method, "uri", req.RequestURI, "status", status, "latency", latency)
			}
			return err
		}
	}
}

// limitBody answers 413 to a body over n bytes. Each command route sets
// its own limit: a batch needs more room than a single command.
func limitBody(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > n {
				return tooLarge(n)
			}
			// A server's request body with a length (≥ 0; -1 is unknown,
			// as when chunked) ends at that length: only a body without
			// one needs the reader that stops at n.
			if req.ContentLength < 0 {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, n)
			}
			return next(c)
		}
	}
}

func tooLarge(n int64) error {
	return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body over %d bytes", n))
}
