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
	// HTTP bounds every HTTP listener of the program.
	HTTP *HTTPLimits
	Topology
}

// CommonFlags registers the shared settings with the program's defaults.
func CommonFlags(f Flags, httpAddr, natsURL, natsUsage string) *Common {
	c := &Common{}
	f.StringVar(&c.HTTPAddr, "http-addr", "INVENTORY_HTTP_ADDR", httpAddr, "HTTP listen address")
	f.StringVar(&c.NATSURL, "nats-url", "NATS_URL", natsURL, natsUsage)
	c.HTTP = HTTPFlags(f)
	f.IntVar(&c.Partitions, "partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of a new event stream")
	f.IntVar(&c.Replicas, "replicas", "INVENTORY_REPLICAS", 1, "replicas of new streams and buckets (existing ones: inventory admin apply)")
	c.IdempotencyWindow = streams.DefaultDuplicates
	f.Var(positiveDuration{&c.IdempotencyWindow}, "idempotency-window", "INVENTORY_IDEMPOTENCY_WINDOW",
		"how long an Idempotency-Key is remembered, when the event stream is created (existing: inventory admin apply)")
	f.Int64Var(&c.MaxBytes, "max-bytes", "INVENTORY_MAX_BYTES", 0, "size limit of the event stream INVENTORY in bytes; when full, commands answer 503 (0: unlimited)")
	f.DurationVar(&c.MaxAge, "max-age", "INVENTORY_MAX_AGE", 0, "age after which events are deleted from INVENTORY (0: kept forever)")
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
func OpenPipeline(ctx context.Context, js jetstream.JetStream, t Topology, cs CalculatorSettings, log *slog.Logger) (*Pipeline, error) {
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
	calc, err := NewCalculator(ctx, js, view, t, cs, wire, log)
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
//
// With --exit-with-parent (INVENTORY_EXIT_WITH_PARENT=1, which the
// Taskfile's run sets) the context also ends when the process that
// started the program, or its parent, exits.
func Main(f Flags, run func(ctx context.Context, log *slog.Logger) error) {
	MainArgs(f, os.Args[1:], run)
}

// MainArgs is Main with the arguments given, for subcommands. A malformed
// setting stops the process before it does anything (exit status 2, as
// for a bad flag).
func MainArgs(f Flags, args []string, run func(ctx context.Context, log *slog.Logger) error) {
	var exitWithParent bool
	f.BoolVar(&exitWithParent, "exit-with-parent", "INVENTORY_EXIT_WITH_PARENT", false,
		"stop when the process that started this one, or its parent, exits (for task runners)")
	err := f.Parse(args)
	var log *slog.Logger
	if err == nil {
		log, err = Logger()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", f.Name(), err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if exitWithParent {
		ctx = followParent(ctx, log)
	}
	err = run(ctx, log)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", f.Name(), err)
		os.Exit(1)
	}
}
