// Command sellable-service keeps the sellable view in Scylla, fed by the
// view buckets' streams (every value the calculators write), and answers
// the query API from it:
// GET /inventory/locations/{location}/skus/{sku} and
// GET /inventory/locations/{location}/skus (paged).
package main

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/app"
)

func main() {
	p, projectionConfig := app.SellableProgram()
	p.Run(func(ctx context.Context, s *app.Session) (*echo.Echo, error) {
		wire, err := app.OpenWire(ctx, s.JS, s.Topology, s.Log)
		if err != nil {
			return nil, err
		}
		return app.RunProjection(s, projectionConfig(wire, s.Log), wire)
	})
}
