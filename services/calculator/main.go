// Command calculator is one instance of the partitioned stream processor
// against an external NATS. It shares the partitions with the other
// instances and serves the query API from the KV buckets, so any
// instance answers any key.
package main

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/app"
)

func main() {
	p, calcCfg := app.CalculatorProgram()
	p.Run(func(ctx context.Context, s *app.Session) (*echo.Echo, error) {
		_, e, err := app.RunPipeline(ctx, s, *calcCfg)
		return e, err
	})
}
