package systemtest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/readmodel"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/wire"
)

// Config says what a test's system looks like.
type Config struct {
	// Partitions of the streams and view; 0 is a new deployment's default.
	Partitions int
	// Avro writes events and changes in Avro with schemas registered in
	// the registry bucket, as the programs do; otherwise events are JSON,
	// as hand-published ones are.
	Avro bool
}

// System is a stack with its wire formats and command service. No
// calculator runs until StartCalculator.
type System struct {
	*stacktest.Stack
	Wire     app.Wire
	Commands *command.Service
	// Reservations decide over the system's view (a calculator must run
	// for them to see any stock).
	Reservations *command.Reservations
	// ReadModel holds the view in memory; API starts it (its watches
	// run until the test ends) and answers the point query from it, as
	// the all-in-one does. Nil until API is called: tests without an API
	// run no watches.
	ReadModel *readmodel.Model

	tb       testing.TB
	readOnce sync.Once
}

// Start runs a system for the duration of tb.
func Start(tb testing.TB, cfg Config) *System {
	tb.Helper()
	s := stacktest.Start(tb, cfg.Partitions)
	w, err := openWire(context.Background(), s, cfg.Avro)
	if err != nil {
		tb.Fatal(err)
	}
	topo := app.Topology{Partitions: s.Streams.Partitions, Replicas: 1}
	return &System{Stack: s, Wire: w, Commands: command.NewService(s.JS, w.Events, s.Streams.Partitions),
		Reservations: app.Reservations(s.JS, topo, w, s.View), tb: tb}
}

// openWire is the one place the tests' codecs are built.
func openWire(ctx context.Context, s *stacktest.Stack, avro bool) (app.Wire, error) {
	if !avro {
		return app.Wire{Events: wire.JSON{}, Decoders: wire.NewCodecs()}, nil
	}
	topo := app.Topology{Partitions: s.Streams.Partitions, Replicas: 1}
	return app.OpenWire(ctx, s.JS, topo, slog.New(slog.DiscardHandler))
}

// StartCalculator runs a calculator instance over the system's view until
// stop is called or tb ends. It reads events with decoders (nil: the
// system's) and starts from calculator.DefaultConfig for the system's
// partitions, logging nowhere, changed by tune (nil: unchanged).
func (s *System) StartCalculator(tb testing.TB, decoders *wire.Codecs, tune func(*calculator.Config)) (c *calculator.Calculator, stop func()) {
	tb.Helper()
	if decoders == nil {
		decoders = s.Wire.Decoders
	}
	cfg := calculator.DefaultConfig()
	cfg.Partitions = s.Streams.Partitions
	cfg.Logger = slog.New(slog.DiscardHandler)
	if tune != nil {
		tune(&cfg)
	}
	c, err := calculator.New(context.Background(), calculator.Deps{JS: s.JS, Store: s.View, Events: decoders}, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c, stacktest.Go(tb, c.Run)
}

// Registry is the schema registry in the system's bucket: the wire's if
// the system writes Avro, else opened now (as a separate registry
// process would find it).
func (s *System) Registry(tb testing.TB) *registry.Store {
	tb.Helper()
	if s.Wire.Registry != nil {
		return s.Wire.Registry
	}
	store, err := registry.NewStore(context.Background(), s.JS, registry.DefaultConfig())
	if err != nil {
		tb.Fatal(err)
	}
	return store
}

// Decider takes decisions on the system's log over its view.
func (s *System) Decider() *command.Decider {
	return command.NewDecider(s.JS, s.Wire.Events, s.Wire.Decoders, s.View, s.Streams.Partitions, command.DefaultDecideConfig())
}

// API is the command and query API over the system, logging to log, as
// the all-in-one serves it.
func (s *System) API(log *slog.Logger) *echo.Echo {
	e := api.NewServer(log)
	api.RegisterCommands(e, s.Commands)
	api.RegisterCounts(e, command.NewCounts(s.Decider(), s.Streams.Partitions))
	events := query.NewEventLog(s.JS, s.Wire.Decoders)
	s.readOnce.Do(func() {
		rm, err := app.OpenReadModel(context.Background(), s.JS, s.View, readmodel.DefaultMaxKeys, slog.New(slog.DiscardHandler))
		if err != nil {
			s.tb.Fatal(err)
		}
		stacktest.Go(s.tb, rm.Run)
		s.ReadModel = rm
	})
	api.RegisterQueries(e, query.NewReader(s.View, events), events, s.View, api.WithAnswers(s.ReadModel))
	api.RegisterReservations(e, s.Reservations)
	return e
}

// ServeAPI serves API over HTTP on a free local port until tb ends.
func (s *System) ServeAPI(tb testing.TB, log *slog.Logger) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(s.API(log))
	tb.Cleanup(srv.Close)
	return srv
}
