// Command calculator is one instance of the partitioned stream processor
// against an external NATS. It shares the partitions with the other
// instances and serves the query API from the KV buckets, so any
// instance answers any key.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "calculator:", err)
		os.Exit(1)
	}
}

func run() error {
	f := app.NewFlags("calculator")
	cfg := app.CommonFlags(f, "127.0.0.1:9094", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	_ = f.Parse(os.Args[1:])
	log := app.Logger()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, js, err := app.Connect(cfg.NATSURL, "calculator", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	p, err := app.OpenPipeline(ctx, js, cfg.Topology, log)
	if err != nil {
		return err
	}
	e := api.NewServer(log)
	p.Register(e, nc, js)
	return app.RunAll(ctx, nc, log,
		p.Calculator.Run,
		func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, log) })
}
