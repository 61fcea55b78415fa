package app

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/registry"
)

// RegistryAPI is the schema registry served alone (services/schema-registry),
// with the house middleware, /healthz, and a /readyz that is ready while
// NATS is connected and the registry bucket answers.
func RegistryAPI(store *registry.Store, nc *nats.Conn, log *slog.Logger) *echo.Echo {
	e := api.NewServer(log)
	registry.NewHandler(store, log).Register(e)
	api.RegisterReady(e, map[string]api.Check{
		"nats": NATSConnected(nc),
		"registry": func(ctx context.Context) error {
			_, err := store.GlobalLevel(ctx)
			return err
		},
	})
	return e
}
