package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/calculator"
	"github.com/sellable/inventory/api/gen/readiness"
)

// Check is one readiness condition; nil means ready.
type Check func(ctx context.Context) error

// RegisterReady mounts the operation tagged readiness in openapi.yaml
// (GET /readyz) through its generated server: 200 when every check
// passes, 503 with the failing checks otherwise.
func RegisterReady(e *echo.Echo, checks map[string]Check) {
	readiness.RegisterHandlersWithOptions(e, readyServer(checks), readiness.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("readiness", nil),
	})
}

// readyServer implements the generated readiness.ServerInterface.
type readyServer map[string]Check

var _ readiness.ServerInterface = readyServer{}

func (checks readyServer) Readyz(c echo.Context) error {
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
}

// RegisterCalculatorStatus mounts the operation tagged calculator in
// openapi.yaml (GET /calculator/status) through its generated server,
// answering whatever status returns: the calculator's partitions and
// lag, for operators.
func RegisterCalculatorStatus(e *echo.Echo, status func(ctx context.Context) any) {
	calculator.RegisterHandlersWithOptions(e, statusServer(status), calculator.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("calculator", nil),
	})
}

// statusServer implements the generated calculator.ServerInterface.
type statusServer func(ctx context.Context) any

var _ calculator.ServerInterface = statusServer(nil)

func (status statusServer) CalculatorStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, status(c.Request().Context()))
}
