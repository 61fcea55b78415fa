// Command mutator serves the command API against an external NATS:
// POST /inventory/adjustment, /inventory/reservation, /inventory/batch,
// /inventory/counts and the cart reservations; it also runs an expiry
// relay (package expiry) and, with NATS users, the intake relay that
// stores the publisher role's events (package intake).
package main

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
)

func main() {
	app.MutatorProgram().Run(func(ctx context.Context, s *app.Session) (*echo.Echo, error) {
		if err := app.EnsureStreams(ctx, s.JS, s.Topology, s.Log); err != nil {
			return nil, err
		}
		wire, err := app.OpenWire(ctx, s.JS, s.Topology, s.Log)
		if err != nil {
			return nil, err
		}
		if wire.IDKey, err = app.OpenIDKey(ctx, s.JS, s.Topology, s.Log); err != nil {
			return nil, err
		}
		// Cart reservations and counts decide on positions, so the command
		// API reads the view (the calculators write it).
		view, err := app.OpenView(ctx, s.JS, s.Topology, s.Log)
		if err != nil {
			return nil, err
		}
		e := api.NewServer(s.Log)
		app.RegisterCommands(e, s.JS, s.Topology, wire)
		rs := app.Reservations(s.JS, s.Topology, wire, view)
		app.RegisterReservations(e, rs)
		app.RegisterCounts(e, rs.Decider(), s.Topology)
		if err := app.RunExpiryRelay(ctx, s, rs); err != nil {
			return nil, err
		}
		if s.NATSUsers() {
			if err := app.RunIntakeRelay(ctx, s); err != nil {
				return nil, err
			}
		}
		api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(s.NC), "streams": app.StreamsPresent(s.JS)})
		return e, nil
	})
}
