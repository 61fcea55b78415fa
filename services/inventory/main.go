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
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/registry"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "admin" {
		admin(os.Args[2:])
		return
	}
	f := app.NewFlags("inventory")
	cfg := app.CommonFlags(f, "127.0.0.1:9091", "", "external NATS server(s); when set, none is embedded")
	embedConfig := embedFlags(f)
	calcCfg := app.CalculatorFlags(f)
	sellableAddr := f.String("sellable-addr", "INVENTORY_SELLABLE_ADDR", "127.0.0.1:9093", "HTTP address of the Scylla-backed query API, when SCYLLA_HOSTS is set")
	projectionConfig := app.ProjectionFlags(f, "")
	pprofAddr := f.String("pprof-addr", "INVENTORY_PPROF_ADDR", "", "serve Go's profiler here (off when empty)")
	app.Main(f, func(ctx context.Context, log *slog.Logger) error {
		app.ServePprof(ctx, *pprofAddr, log)
		url := cfg.NATSURL
		var inProcess []nats.Option
		if url == "" {
			embedded := embedConfig()
			srv, err := natsembed.Start(embedded)
			if err != nil {
				return err
			}
			defer srv.WaitForShutdown()
			defer srv.Shutdown()
			url = srv.ClientURL()
			// Talk to it in memory: no loopback TCP between our own parts.
			inProcess = append(inProcess, nats.InProcessServer(srv))
			log.Info("embedded nats running", "url", url, "data", embedded.StoreDir, "sync", embedded.Sync.String())
		}
		nc, js, err := app.Connect(url, "inventory", log, inProcess...)
		if err != nil {
			return err
		}
		defer nc.Close()

		p, err := app.OpenPipeline(ctx, js, cfg.Topology, *calcCfg, log)
		if err != nil {
			return err
		}
		e := api.NewServer(log)
		cmds := app.Commands(js, cfg.Topology, p.Wire)
		api.RegisterCommands(e, cmds)
		api.RegisterBatch(e, cmds)
		registry.NewHandler(p.Wire.Registry, log).Register(e)
		p.Register(e, nc, js)
		tasks := []func(context.Context) error{
			p.Calculator.Run,
			func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, *cfg.HTTP, log) },
		}
		if pcfg := projectionConfig(p.Wire, log); len(pcfg.Hosts) > 0 {
			svc, err := projection.New(js, pcfg)
			if err != nil {
				return err
			}
			se := app.ProjectionAPI(svc, nc, log)
			tasks = append(tasks, svc.Run, func(ctx context.Context) error { return app.Serve(ctx, se, *sellableAddr, *cfg.HTTP, log) })
		}
		return app.RunAll(ctx, nc, log, tasks...)
	})
}

// embedFlags registers the embedded server's settings; call the result
// once f is parsed.
func embedFlags(f app.Flags) func() natsembed.Config {
	dataDir := f.String("data-dir", "INVENTORY_DATA_DIR", "./data", "directory of the embedded server's JetStream files")
	listen := f.String("nats-listen", "INVENTORY_NATS_LISTEN", "127.0.0.1:4222", "client address of the embedded NATS server")
	sync := new(natsembed.Sync)
	f.Var(sync, "sync", "INVENTORY_SYNC", `when the embedded server syncs JetStream to disk: "always" (before each acknowledgement) or an interval`)
	return func() natsembed.Config {
		return natsembed.Config{Listen: *listen, StoreDir: filepath.Join(*dataDir, "jetstream"), ServerName: "inventory", Sync: *sync}
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
