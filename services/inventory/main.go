// Command inventory is the all-in-one: an embedded NATS server with
// JetStream on disk (unless NATS_URL names one), the command API, the
// calculator and the query API, behind one HTTP listener.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "inventory:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("inventory")
	httpAddr := f.String("http-addr", "INVENTORY_HTTP_ADDR", "127.0.0.1:9091", "HTTP listen address")
	dataDir := f.String("data-dir", "INVENTORY_DATA_DIR", "./data", "directory of the embedded server's JetStream files")
	natsListen := f.String("nats-listen", "INVENTORY_NATS_LISTEN", "127.0.0.1:4222", "client address of the embedded NATS server")
	natsURL := f.String("nats-url", "NATS_URL", "", "external NATS server; when set, none is embedded")
	partitions := f.Int("partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of a new event stream")
	replicas := f.Int("replicas", "INVENTORY_REPLICAS", 1, "replicas of streams and buckets")
	sellableAddr := f.String("sellable-addr", "INVENTORY_SELLABLE_ADDR", "127.0.0.1:9093", "HTTP address of the Scylla-backed query API, when SCYLLA_HOSTS is set")
	projectionConfig := app.ProjectionFlags(f, "")
	pprofAddr := f.String("pprof-addr", "INVENTORY_PPROF_ADDR", "", "serve Go's profiler here (off when empty)")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app.ServePprof(ctx, *pprofAddr, log)

	url := *natsURL
	var inProcess []nats.Option
	if url == "" {
		srv, err := natsembed.Start(natsembed.Config{
			Listen: *natsListen, StoreDir: filepath.Join(*dataDir, "jetstream"), ServerName: "inventory",
		})
		if err != nil {
			return err
		}
		defer srv.WaitForShutdown()
		defer srv.Shutdown()
		url = srv.ClientURL()
		// Talk to it in memory: no loopback TCP between our own parts.
		inProcess = append(inProcess, nats.InProcessServer(srv))
		log.Info("embedded nats running", "url", url, "data", *dataDir)
	}
	nc, js, err := app.Connect(url, "inventory", log, inProcess...)
	if err != nil {
		return err
	}
	defer nc.Close()

	topo := app.Topology{Partitions: *partitions, Replicas: *replicas}
	if err := app.EnsureStreams(ctx, js, topo, log); err != nil {
		return err
	}
	wire, err := app.OpenWire(ctx, js, topo, log)
	if err != nil {
		return err
	}
	store, err := app.OpenView(ctx, js, topo, log)
	if err != nil {
		return err
	}
	calc, err := app.NewCalculator(ctx, js, store, topo, wire, log)
	if err != nil {
		return err
	}

	e := api.NewServer(log)
	api.RegisterCommands(e, app.Commands(js, topo, wire))
	registry.NewHandler(wire.Registry, log).Register(e)
	api.RegisterQueries(e, store)
	api.RegisterReady(e, map[string]api.Check{"nats": app.NATSConnected(nc), "streams": app.StreamsPresent(js)})
	api.RegisterStatus(e, "/calculator/status", func(context.Context) any { return calc.Status() })

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return calc.Run(gctx) })
	g.Go(func() error { return app.Serve(gctx, e, *httpAddr, log) })
	if pcfg := projectionConfig(wire, log); len(pcfg.Hosts) > 0 {
		svc, err := projection.New(js, pcfg)
		if err != nil {
			return err
		}
		se := api.NewServer(log)
		api.RegisterQueries(se, svc.Reader())
		api.RegisterList(se, svc.Reader())
		g.Go(func() error { return svc.Run(gctx) })
		g.Go(func() error { return app.Serve(gctx, se, *sellableAddr, log) })
	}
	err = g.Wait()
	if ferr := nc.Drain(); ferr != nil {
		log.Warn("nats drain", "err", ferr)
	}
	return err
}
