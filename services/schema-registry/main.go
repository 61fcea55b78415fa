// Command schema-registry serves the Confluent-compatible schema registry
// API from the JetStream KV bucket every program opens, on an external
// NATS.
package main

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/app"
)

func main() {
	app.SchemaRegistryProgram().Run(func(ctx context.Context, s *app.Session) (*echo.Echo, error) {
		store, err := app.OpenRegistry(ctx, s.JS, s.Topology, s.Log)
		if err != nil {
			return nil, err
		}
		return app.RegistryAPI(store, s.NC, s.Log), nil
	})
}
