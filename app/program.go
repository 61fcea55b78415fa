package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// Common is what every program is told: where to listen, which NATS, and
// how the streams are laid out.
type Common struct {
	HTTPAddr string
	NATSURL  string
	Topology
}

// CommonFlags registers the shared settings with the program's defaults.
func CommonFlags(f Flags, httpAddr, natsURL, natsUsage string) *Common {
	c := &Common{}
	f.StringVar(&c.HTTPAddr, "http-addr", "INVENTORY_HTTP_ADDR", httpAddr, "HTTP listen address")
	f.StringVar(&c.NATSURL, "nats-url", "NATS_URL", natsURL, natsUsage)
	f.IntVar(&c.Partitions, "partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of a new event stream")
	f.IntVar(&c.Replicas, "replicas", "INVENTORY_REPLICAS", 1, "replicas of streams and buckets")
	return c
}

// Pipeline is the stream-processing side: the wire formats, the view and
// a calculator instance over it.
type Pipeline struct {
	Wire       Wire
	View       *kv.Store
	Calculator *calculator.Calculator
}

// OpenPipeline ensures the streams and opens everything a calculator
// needs, waiting for JetStream as long as ctx allows.
func OpenPipeline(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) (*Pipeline, error) {
	if err := EnsureStreams(ctx, js, t, log); err != nil {
		return nil, err
	}
	wire, err := OpenWire(ctx, js, t, log)
	if err != nil {
		return nil, err
	}
	view, err := OpenView(ctx, js, t, log)
	if err != nil {
		return nil, err
	}
	calc, err := NewCalculator(ctx, js, view, t, wire, log)
	if err != nil {
		return nil, err
	}
	return &Pipeline{Wire: wire, View: view, Calculator: calc}, nil
}

// Register mounts the query API, readiness and the calculator's status.
func (p *Pipeline) Register(e *echo.Echo, nc *nats.Conn, js jetstream.JetStream) {
	api.RegisterQueries(e, p.View)
	api.RegisterReady(e, map[string]api.Check{
		"nats": NATSConnected(nc), "streams": StreamsPresent(js),
		"partitions": PartitionsProgress(p.Calculator),
	})
	api.RegisterStatus(e, "/calculator/status", func(context.Context) any { return p.Calculator.Status() })
}

// RunAll runs every function until ctx ends or one fails, then drains nc
// so that what is in flight is delivered before the process exits.
func RunAll(ctx context.Context, nc *nats.Conn, log *slog.Logger, fns ...func(context.Context) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(gctx) })
	}
	err := g.Wait()
	if ferr := nc.Drain(); ferr != nil {
		log.Warn("nats drain", "err", ferr)
	}
	return err
}

// Main runs a program: it parses the flags, sets up the logger and a
// context that ends on SIGINT or SIGTERM, calls run, and exits non-zero
// with the error if run fails.
func Main(f Flags, run func(ctx context.Context, log *slog.Logger) error) {
	_ = f.Parse(os.Args[1:])
	log := Logger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, log)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", f.Name(), err)
		os.Exit(1)
	}
}
