package app

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
)

// PprofAPI serves Go's profiler under /debug/pprof/: an operator's
// switch (INVENTORY_PPROF_ADDR), off by default and kept off the API
// listener. Served by Session.ServeWithLimits with PprofLimits, it is
// protected like every listener (the admin scope, api.RouteScopes).
func PprofAPI(log *slog.Logger) *echo.Echo {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = api.ErrorHandler(log)
	e.GET("/debug/pprof/*", echo.WrapHandler(mux))
	return e
}

// PprofLimits fit the profiler: a CPU profile or trace streams for its
// ?seconds= (30 s by default), so writes get longer than the API's;
// reads and idle time do not, and a handful of operators at a time is
// plenty.
func PprofLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute, MaxConns: 16,
	}
}
