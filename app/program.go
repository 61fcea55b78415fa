package app

import (
	"context"
	"crypto/tls"
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
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/expiry"
	"github.com/sellable/inventory/intake"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/readmodel"
	"github.com/sellable/inventory/streams"
)

// Common is what every program is told: where to listen, which NATS, and
// how the streams are laid out.
type Common struct {
	HTTPAddr string
	NATSURL  string
	// NATSAuth is how the program authenticates to an external NATS and
	// checks its certificate.
	NATSAuth natsauth.ClientConfig
	// HTTP bounds every HTTP listener of the program.
	HTTP *HTTPLimits
	// Security protects every HTTP listener of the program.
	Security *Security
	Topology
	// Embed, when set, starts a NATS server in the process if NATSURL is
	// empty (the all-in-one); Run connects to it.
	Embed EmbedFunc
}

// EmbedFunc starts a NATS server inside the process: its client URL, the
// options that reach it (in memory), and how to stop it, which Run calls
// once the connection is closed.
type EmbedFunc func(log *slog.Logger) (url string, opts []nats.Option, stop func(), err error)

// CommonFlags registers the shared settings with the program's defaults.
func CommonFlags(f Flags, httpAddr, natsURL, natsUsage string) *Common {
	c := &Common{}
	f.StringVar(&c.HTTPAddr, "http-addr", "INVENTORY_HTTP_ADDR", httpAddr, "HTTP listen address")
	f.StringVar(&c.NATSURL, "nats-url", "NATS_URL", natsURL, natsUsage)
	NATSAuthFlags(f, &c.NATSAuth)
	c.HTTP = HTTPFlags(f)
	c.Security = SecurityFlags(f)
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
	// ReadModel answers the point query from memory; nil reads the
	// view for every query.
	ReadModel *readmodel.Model
	// Log is the program's logger; nil is slog.Default().
	Log *slog.Logger
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
	rm, err := OpenReadModel(ctx, js, view, cs.ReadModelKeys, log)
	if err != nil {
		return nil, err
	}
	return &Pipeline{Wire: wire, View: view, Calculator: calc, ReadModel: rm, Log: log}, nil
}

// Register mounts the query API, readiness, the calculator's status and
// what operators watch (RegisterLive).
func (p *Pipeline) Register(e *echo.Echo, nc *nats.Conn, js jetstream.JetStream) {
	events := query.NewEventLog(js, p.Wire.Decoders)
	var opts []api.QueryOption
	if p.ReadModel != nil {
		opts = append(opts, api.WithAnswers(p.ReadModel))
	}
	api.RegisterQueries(e, query.NewReader(p.View, events), events, p.View, opts...)
	api.RegisterReady(e, map[string]api.Check{
		"nats": NATSConnected(nc), "streams": StreamsPresent(js),
		"partitions": PartitionsProgress(p.Calculator),
	})
	api.RegisterCalculatorStatus(e, func(context.Context) any { return p.Calculator.Status() })
	// Defaults only: it cannot fail.
	if err := RegisterLive(e, js, p.Log); err != nil {
		panic(err)
	}
}

// RunPipeline opens the pipeline (OpenPipeline), runs its calculator in s
// and returns the API over its view (Register).
func RunPipeline(ctx context.Context, s *Session, cs CalculatorSettings) (*Pipeline, *echo.Echo, error) {
	p, err := OpenPipeline(ctx, s.JS, s.Topology, cs, s.Log)
	if err != nil {
		return nil, nil, err
	}
	e := api.NewServer(s.Log)
	p.Register(e, s.NC, s.JS)
	s.Go(p.Calculator.Run)
	s.Go(p.ReadModel.Run)
	return p, e, nil
}

// RegisterCommands mounts the command API, single and batch, writing
// events in w's format.
func RegisterCommands(e *echo.Echo, js jetstream.JetStream, t Topology, w Wire) {
	cmds := Commands(js, t, w)
	api.RegisterCommands(e, cmds)
}

// Reservations is the cart reservation service: decisions on the log,
// waiting for view. Each new reservation's expiry is scheduled before it
// is stored (package expiry); RunExpiryRelay decides the fired schedules.
func Reservations(js jetstream.JetStream, t Topology, w Wire, view command.View) *command.Reservations {
	d := command.NewDecider(js, w.Events, w.Decoders, view, t.Partitions, command.DefaultDecideConfig())
	return command.NewReservations(d, command.WithExpiry(expiry.NewScheduler(js)))
}

// RegisterReservations mounts the cart reservation routes over r.
func RegisterReservations(e *echo.Echo, r *command.Reservations) {
	api.RegisterReservations(e, r)
}

// RegisterCounts mounts POST /inventory/counts, deciding counts with d
// (the reservations' decider: one per process).
func RegisterCounts(e *echo.Echo, d *command.Decider, t Topology) {
	api.RegisterCounts(e, command.NewCounts(d, t.Partitions))
}

// runAll runs every function until ctx ends or one fails, then drains nc
// so that what is in flight is delivered before the process exits.
func runAll(ctx context.Context, nc *nats.Conn, log *slog.Logger, fns ...func(context.Context) error) error {
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

// DefaultNATSURL is where a program finds NATS unless told otherwise.
const DefaultNATSURL = "nats://127.0.0.1:4222"

// Program is one of the programs in services/ that run on NATS: its flag
// set and the settings every program shares. A program adds its own flags
// to it, then calls Run, so that the programs differ only in their
// settings and their setup.
type Program struct {
	Flags
	*Common
}

// NewProgram registers the shared settings of the program name, which
// listens on httpAddr unless told otherwise.
func NewProgram(name, httpAddr string) Program {
	f := NewFlags(name)
	c := CommonFlags(f, httpAddr, DefaultNATSURL, "NATS server(s), comma-separated")
	defaultInbox(f, &c.NATSAuth, name)
	return Program{Flags: f, Common: c}
}

// Session is one run of a Program: its connection, logger and settings,
// and the tasks its setup adds.
type Session struct {
	NC  *nats.Conn
	JS  jetstream.JetStream
	Log *slog.Logger
	Topology

	limits   HTTPLimits
	security Security
	guard    api.Guard
	tls      *tls.Config
	tasks    []func(context.Context) error
	// natsUsers says the program connects to NATS as a user (see
	// NATSUsers).
	natsUsers bool
	// protected holds the servers Protect was applied to: once each,
	// whatever the listeners they are served on (twice would
	// authenticate twice and count each request twice against a rate).
	protected map[*echo.Echo]bool
}

// Go adds fn to what Run runs once setup has returned.
func (s *Session) Go(fn func(context.Context) error) { s.tasks = append(s.tasks, fn) }

// Serve adds a listener: e on addr, within the program's HTTP limits,
// protected by its security settings (api.Protect, TLS).
func (s *Session) Serve(e *echo.Echo, addr string) {
	s.ServeWithLimits(e, addr, s.limits)
}

// ServeWithLimits is Serve with other limits than the program's.
func (s *Session) ServeWithLimits(e *echo.Echo, addr string, limits HTTPLimits) {
	if !s.protected[e] {
		if s.protected == nil {
			s.protected = map[*echo.Echo]bool{}
		}
		s.protected[e] = true
		api.Protect(e, s.guard)
	}
	s.Go(func(ctx context.Context) error {
		// Checked again here for the listeners a setup adds; the
		// program's own address was checked before anything started.
		if err := s.security.CheckListen(addr); err != nil {
			return err
		}
		return serve(ctx, e, addr, limits, s.tls, s.Log)
	})
}

// Setup opens what a program needs, adds its tasks to s and returns the
// API that Run serves on the program's HTTP address.
type Setup func(ctx context.Context, s *Session) (*echo.Echo, error)

// Run is Main for p: it connects to NATSURL as the program's name (to
// Embed's server when the URL is empty and Embed is set), calls setup,
// then serves its API on HTTPAddr alongside the tasks setup added, until
// the context ends or one fails; then it drains the connection.
func (p Program) Run(setup Setup) {
	Main(p.Flags, func(ctx context.Context, log *slog.Logger) error {
		sec := *p.Security
		if err := sec.Validate(); err != nil {
			return err
		}
		// Before anything starts: a program that would serve the
		// network unprotected does not start at all.
		if err := sec.CheckListen(p.HTTPAddr); err != nil {
			return err
		}
		guard, err := sec.guard(log)
		if err != nil {
			return err
		}
		tlsCfg, err := sec.tlsConfig()
		if err != nil {
			return err
		}
		url := p.NATSURL
		opts, err := p.NATSAuth.Options()
		if err != nil {
			return err
		}
		if url == "" && p.Embed != nil {
			var stop func()
			if url, opts, stop, err = p.Embed(log); err != nil {
				return err
			}
			defer stop()
		}
		nc, js, err := Connect(url, p.Name(), log, opts...)
		if err != nil {
			return err
		}
		defer nc.Close()
		s := &Session{NC: nc, JS: js, Log: log, Topology: p.Topology, limits: *p.HTTP, security: sec, guard: guard, tls: tlsCfg,
			natsUsers: p.NATSAuth.Authenticated()}
		e, err := setup(ctx, s)
		if err != nil {
			return err
		}
		s.Serve(e, p.HTTPAddr)
		return runAll(ctx, nc, log, s.tasks...)
	})
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
	exitWithParent := mainFlags(f)
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
	if *exitWithParent {
		ctx = followParent(ctx, log)
	}
	err = run(ctx, log)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", f.Name(), err)
		os.Exit(1)
	}
}

// mainFlags registers the settings MainArgs itself reads.
func mainFlags(f Flags) (exitWithParent *bool) {
	exitWithParent = new(bool)
	f.BoolVar(exitWithParent, "exit-with-parent", "INVENTORY_EXIT_WITH_PARENT", false,
		"stop when the process that started this one, or its parent, exits (for task runners)")
	return exitWithParent
}

// NATSUsers says whether the program connects to NATS with credentials:
// the deployment then has users, and the publisher role's events arrive
// through the intake (RunIntakeRelay).
func (s *Session) NATSUsers() bool { return s.natsUsers }

// RunIntakeRelay stores the events the publisher role publishes straight
// onto NATS, with their NATS user as the source (package intake). Run it
// only in a deployment with NATS users: without them nothing crosses an
// account, and the Nats-Request-Info the relay trusts could be anyone's.
func RunIntakeRelay(ctx context.Context, s *Session) error {
	_, err := intake.Start(ctx, s.NC, s.JS, s.Log)
	return err
}

// RunExpiryRelay runs the relay that turns fired reservation expiry
// schedules into expiry decisions by e (see package expiry), in s.
// Every program that serves reservations runs one; they share its
// durable consumer.
func RunExpiryRelay(ctx context.Context, s *Session, rs *command.Reservations) error {
	e := expiry.NewExpirer(rs)
	cfg := expiry.DefaultConfig()
	cfg.Logger = s.Log
	var r *expiry.Relay
	err := Retry(ctx, s.Log, "expiry relay consumer", func(ctx context.Context) error {
		var err error
		r, err = expiry.NewRelay(ctx, s.JS, e, cfg)
		return err
	})
	if err != nil {
		return err
	}
	s.Go(r.Run)
	return nil
}
