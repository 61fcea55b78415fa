package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
)

// StoreRegistry is a streams.SchemaRegistry on a registry.Store in the
// same process (the all-in-one): no HTTP hop, same bucket, same ids.
type StoreRegistry struct {
	Store *registry.Store
}

// Register adds schema to subject, or finds it there, and returns its id.
func (r StoreRegistry) Register(ctx context.Context, subject, schema string) (int, error) {
	sv, err := r.Store.Register(ctx, subject, schema)
	if errors.Is(err, registry.ErrIncompatible) || errors.Is(err, registry.ErrInvalidSchema) || errors.Is(err, registry.ErrInvalidSubject) {
		return 0, fmt.Errorf("%w: %w", streams.ErrSchemaRejected, err)
	}
	if err != nil {
		return 0, err
	}
	return sv.ID, nil
}

// SchemaByID returns the schema with id.
func (r StoreRegistry) SchemaByID(ctx context.Context, id int) (string, error) {
	s, err := r.Store.SchemaByID(ctx, id)
	if errors.Is(err, registry.ErrSchemaNotFound) {
		return "", fmt.Errorf("%w: %w", streams.ErrSchemaNotFound, err)
	}
	return s, err
}

// RegistryURL is a streams.SchemaRegistry at a registry's HTTP address
// (e.g. http://127.0.0.1:8081), through hamba/avro's client.
func RegistryURL(url string) (*streams.RegistryClient, error) {
	return streams.NewRegistryClient(url)
}

// AvroCodecs registers the event and sellable change schemas in reg and
// returns what the programs need to speak Avro: the event codec for
// command.NewService, the decoders for calculator.New (Avro and JSON,
// chosen by Content-Type), and the change codec that writes Avro changes
// and reads both formats. While the registry cannot be reached it
// retries until ctx ends; a registry that rejects a schema is an error at
// once. log may be nil.
func AvroCodecs(ctx context.Context, reg streams.SchemaRegistry, log *slog.Logger) (*streams.AvroEvents, *streams.Codecs, *streams.ChangeCodec, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		events    *streams.AvroEvents
		changes   *streams.AvroChanges
		permanent error
	)
	err := Retry(ctx, log, "register avro schemas", func(ctx context.Context) error {
		var err error
		if events == nil {
			events, err = streams.NewAvroEvents(ctx, reg, streams.AvroConfig{})
		}
		if err == nil && changes == nil {
			changes, err = streams.NewAvroChanges(ctx, reg, streams.AvroConfig{})
		}
		if errors.Is(err, streams.ErrSchemaRejected) {
			permanent = err
			return nil // stop retrying
		}
		return err
	})
	if permanent != nil {
		return nil, nil, nil, fmt.Errorf("app: %w", permanent)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return events, streams.NewCodecs(events), streams.NewChangeCodec(changes), nil
}

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
