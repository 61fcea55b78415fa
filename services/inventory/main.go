// Command inventory is the all-in-one: an embedded NATS server with
// JetStream on disk (unless NATS_URL names one), the command API, the
// schema registry API, the calculator and the query API, behind one HTTP
// listener; with SCYLLA_HOSTS set, also the Scylla projection and its
// query API.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/registry"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		admin(os.Args[2:])
		return
	}
	a := app.AllInOneProgram()
	a.Embed = embedded(a.Embedded)
	calcCfg, sellableAddr, projectionConfig, pprofAddr := a.Calculator, a.SellableAddr, a.Projection, a.PprofAddr
	a.Run(func(ctx context.Context, s *app.Session) (*echo.Echo, error) {
		app.ServePprof(ctx, *pprofAddr, s.Log)
		pipe, e, err := app.RunPipeline(ctx, s, *calcCfg)
		if err != nil {
			return nil, err
		}
		app.RegisterCommands(e, s.JS, s.Topology, pipe.Wire)
		rs := app.Reservations(s.JS, s.Topology, pipe.Wire, pipe.View)
		app.RegisterReservations(e, rs)
		app.RegisterCounts(e, rs.Decider(), s.Topology)
		if err := app.RunExpiryRelay(ctx, s, rs); err != nil {
			return nil, err
		}
		registry.NewHandler(pipe.Wire.Registry, s.Log).Register(e)
		if pcfg := projectionConfig(pipe.Wire, s.Log); len(pcfg.Hosts) > 0 {
			se, err := app.RunProjection(s, pcfg)
			if err != nil {
				return nil, err
			}
			s.Serve(se, *sellableAddr)
		}
		return e, nil
	})
}

// embedded starts the embedded server when NATS_URL names none.
func embedded(config func() natsembed.Config) app.EmbedFunc {
	return func(log *slog.Logger) (string, []nats.Option, func(), error) {
		cfg := config()
		srv, err := natsembed.Start(cfg)
		if err != nil {
			return "", nil, nil, err
		}
		log.Info("embedded nats running", "url", srv.ClientURL(), "data", cfg.StoreDir, "sync", cfg.Sync.String())
		stop := func() { srv.Shutdown(); srv.WaitForShutdown() }
		// Talk to it in memory: no loopback TCP between our own parts.
		return srv.ClientURL(), []nats.Option{nats.InProcessServer(srv)}, stop, nil
	}
}

// admin runs `inventory admin plan|apply`, which changes shared settings
// on purpose; see app.Admin.
func admin(args []string) {
	f := app.NewFlags("inventory admin")
	f.Usage = func() { fmt.Fprintln(os.Stderr, app.AdminUsage) }
	app.MainArgs(f, nil, func(ctx context.Context, log *slog.Logger) error {
		return app.Admin(ctx, args, os.Stdout, log)
	})
}
