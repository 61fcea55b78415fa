package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Check is one readiness condition; nil means ready.
type Check func(ctx context.Context) error

// RegisterReady mounts GET /readyz: 200 when every check passes, 503
// with the failing checks otherwise.
func RegisterReady(e *echo.Echo, checks map[string]Check) {
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		failed := map[string]string{}
		for name, check := range checks {
			if err := check(ctx); err != nil {
				failed[name] = err.Error()
			}
		}
		if len(failed) > 0 {
			return c.JSON(http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failed": failed})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
}

// RegisterStatus mounts GET path answering whatever status returns, for
// operators (a calculator's partitions and lag, say).
func RegisterStatus(e *echo.Echo, path string, status func(ctx context.Context) any) {
	e.GET(path, func(c echo.Context) error {
		return c.JSON(http.StatusOK, status(c.Request().Context()))
	})
}
