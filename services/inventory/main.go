// Command inventory is the all-in-one: an embedded NATS server with
// JetStream on disk (unless NATS_URL names one), the command API, the
// schema registry API, the calculator and the query API, behind one HTTP
// listener; with SCYLLA_HOSTS set, also the Scylla projection and its
// query API.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

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
		a.MemoryLimit.Apply(s.Log)
		if *pprofAddr != "" {
			s.ServeWithLimits(app.PprofAPI(s.Log), *pprofAddr, app.PprofLimits())
		}
		pipe, e, err := app.RunPipeline(ctx, s, *calcCfg)
		if err != nil {
			return nil, err
		}
		if pipe.Wire.IDKey, err = app.OpenIDKey(ctx, s.JS, s.Topology, s.Log); err != nil {
			return nil, err
		}
		app.RegisterCommands(e, s.JS, s.Topology, pipe.Wire)
		rs := app.Reservations(s.JS, s.Topology, pipe.Wire, pipe.View)
		app.RegisterReservations(e, rs)
		app.RegisterCounts(e, rs.Decider(), s.Topology)
		if err := app.RunExpiryRelay(ctx, s, rs); err != nil {
			return nil, err
		}
		// With users, the publisher's events come through the intake.
		if a.Embedded().Users != "" || s.NATSUsers() {
			if err := app.RunIntakeRelay(ctx, s); err != nil {
				return nil, err
			}
		}
		registry.NewHandler(pipe.Wire.Registry, s.Log).Register(e)
		if pcfg := projectionConfig(pipe.Wire, s.Log); len(pcfg.Hosts) > 0 {
			se, err := app.RunProjection(s, pcfg, pipe.Wire)
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
		// With users, the program itself connects as a user of its own
		// that only the in-process pipe can use.
		var opts []nats.Option
		if cfg.Users != "" {
			u, opt, err := natsembed.InternalUser()
			if err != nil {
				return "", nil, nil, err
			}
			cfg.Internal, opts = u, []nats.Option{opt}
		}
		srv, err := natsembed.Start(cfg)
		if errors.Is(err, natsembed.ErrInsecureListen) {
			return "", nil, nil, fmt.Errorf("%w: anyone who reaches it could change stock, the view and the streams; "+
				"give the server users with --nats-users FILE (INVENTORY_NATS_USERS; `inventory admin nats-users DIR` writes one), "+
				"listen on 127.0.0.1 (--nats-listen), or pass --nats-insecure to accept that", err)
		}
		if err != nil {
			return "", nil, nil, err
		}
		log.Info("embedded nats running", "url", srv.ClientURL(), "data", cfg.StoreDir, "sync", cfg.Sync.String())
		stop := func() { srv.Shutdown(); srv.WaitForShutdown() }
		// Talk to it in memory: no loopback TCP between our own parts.
		// A tls:// URL would make the client wrap the in-process pipe in
		// TLS, which the server does not ask of it.
		url := strings.Replace(srv.ClientURL(), "tls://", "nats://", 1)
		return url, append(opts, nats.InProcessServer(srv)), stop, nil
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
