// Command calculator is one instance of the partitioned stream processor
// against an external NATS. It shares the partitions with the other
// instances and serves the query API from the KV buckets, so any
// instance answers any key.
package main

import (
	"context"
	"log/slog"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
)

func main() {
	f := app.NewFlags("calculator")
	cfg := app.CommonFlags(f, "127.0.0.1:9094", "nats://127.0.0.1:4222", "NATS server(s), comma-separated")
	calcCfg := app.CalculatorFlags(f)
	app.Main(f, func(ctx context.Context, log *slog.Logger) error {
		nc, js, err := app.Connect(cfg.NATSURL, "calculator", log)
		if err != nil {
			return err
		}
		defer nc.Close()
		p, err := app.OpenPipeline(ctx, js, cfg.Topology, *calcCfg, log)
		if err != nil {
			return err
		}
		e := api.NewServer(log)
		p.Register(e, nc, js)
		return app.RunAll(ctx, nc, log,
			p.Calculator.Run,
			func(ctx context.Context) error { return app.Serve(ctx, e, cfg.HTTPAddr, *cfg.HTTP, log) })
	})
}
