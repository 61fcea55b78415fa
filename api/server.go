package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/sellable/inventory/metrics"
)

// MaxBodyBytes bounds a request body; larger ones get 413.
const MaxBodyBytes = "64KB"

// NewServer is an Echo instance with the house middleware: panic
// recovery, a body limit, request logging at debug level and the JSON
// error handler. Register handler groups on it.
func NewServer(log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(log)
	e.Server.ReadHeaderTimeout = 5 * time.Second
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit(MaxBodyBytes))
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			log.Debug("http", "method", v.Method, "uri", v.URI, "status", v.Status, "latency", v.Latency)
			return nil
		},
	}))
	e.Use(observe)
	e.GET("/metrics", echo.WrapHandler(metrics.Handler()))
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	return e
}

// observe records each request's latency by route (the pattern, not the
// path, so identifiers do not explode the label set) and status.
func observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status, _ = classify(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		metrics.HTTPRequestSeconds.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(time.Since(start).Seconds())
		return err
	}
}
