package loadtest

import (
	"errors"
	"fmt"
	"time"
)

// Mode is what a run measures.
type Mode string

// The modes of a run.
const (
	ModeIngest    Mode = "ingest"
	ModeFreshness Mode = "freshness"
	ModeQueries   Mode = "queries"
	ModeBaseline  Mode = "baseline"
	// ModeCeiling is GET /healthz at the run's concurrency: the HTTP
	// server's own ceiling, the reference of every HTTP figure.
	ModeCeiling Mode = "ceiling"
	ModeAll     Mode = "all"
	// ModeSweep is ingest at several catalogue sizes (Config.Sweep) with
	// the server's memory after each, after a baseline (issue 15.4).
	ModeSweep Mode = "sweep"
)

// Modes lists every mode: those ModeAll runs in its order, then ModeAll,
// then ModeReservations (which needs the reservations API, issue 12) and
// ModeFeed (the live feed, issue 14) and ModeSweep (catalogue sizes,
// issue 15), which ModeAll leaves out.
var Modes = []Mode{ModeBaseline, ModeCeiling, ModeIngest, ModeFreshness, ModeQueries, ModeCommands, ModeAll, ModeReservations, ModeFeed, ModeSweep}

// Via is how events reach the system.
type Via string

// The transports for events.
const (
	ViaHTTP Via = "http"
	ViaNATS Via = "nats"
)

// Format is how events published over NATS are encoded.
type Format string

// The event formats of NATS publishes.
const (
	// FormatJSON is the JSON body without a Content-Type header, as
	// `nats pub` sends it.
	FormatJSON Format = "json"
	// FormatAvro is an Avro body in the Confluent wire format with the
	// Content-Type header, the schema id the registry gave the event
	// schema: what command.Service publishes, i.e. an Avro producer.
	FormatAvro Format = "avro"
)

// Until is how an ingest knows its events are applied.
type Until string

// The completion signals of an ingest.
const (
	// UntilView waits until a KV watch of the view shows every key's
	// last event: what clients see, key by key, at the cost of one
	// delivery to the tool per view update.
	UntilView Until = "view"
	// UntilStatus polls GET /calculator/status until every partition's
	// lastSeq reaches its last acked event: the pipeline's own signal,
	// free for the server (see applied.go). The --http target must serve
	// a calculator (the all-in-one does).
	UntilStatus Until = "status"
)

// Config is one run's settings. Zero values are not defaults: start from
// DefaultConfig.
type Config struct {
	// HTTPURL is the command and query API, NATSURL the server behind it.
	HTTPURL string
	NATSURL string
	// AllowRemote lets targets be other hosts than the loopback.
	AllowRemote bool
	// Via is the transport of events; in ModeAll an empty Via means both
	// for ingest and NATS for freshness.
	Via Via

	// Events is the number of events of an ingest (and of the baseline).
	Events int
	// Keys is the number of distinct (location, SKU) positions.
	Keys int
	// Skew is the Zipf exponent s (> 1) of key popularity; 0 is uniform.
	Skew float64
	// Sequential draws the keys in order instead, each once before any
	// again: with Events = Keys, exactly Keys distinct positions.
	Sequential bool
	// Prefix starts every SKU the tool writes, to keep its keys apart.
	Prefix string
	// Seed makes the event sequence reproducible.
	Seed uint64

	// Concurrency is the number of HTTP requests in flight.
	Concurrency int
	// Batch is how many commands one HTTP ingest request carries: 1 posts
	// single commands, more use POST /inventory/batch.
	Batch int
	// Window is the number of NATS async publishes awaiting their ack.
	Window int
	// Format encodes the events published over NATS.
	Format Format
	// Rate paces ingest (0: as fast as possible) and sets the rate of
	// ModeFreshness (0: DefaultFreshnessRate), in events per second.
	Rate float64
	// FreshnessRate is the rate of the freshness step of ModeAll.
	FreshnessRate float64
	// Duration bounds freshness, queries and commands runs.
	Duration time.Duration
	// Timeout bounds the wait for the view to catch up after publishing.
	Timeout time.Duration
	// Until is the completion signal of ingest and sweep runs.
	Until Until

	// VerifyHTTPEvery sends one in this many freshness events as an HTTP
	// POST and polls GET until it shows; 0 disables.
	VerifyHTTPEvery int
	// VerifyPoll is the interval between GETs of that poll.
	VerifyPoll time.Duration
	// WithIngestRate runs an ingest at this rate while queries run; 0
	// means none.
	WithIngestRate float64

	// Reservations is how many carts each section of ModeReservations
	// posts.
	Reservations int

	// Subscribers is how many feeds ModeFeed holds open at once.
	Subscribers int
	// FeedDuration is how long ModeFeed publishes.
	FeedDuration time.Duration

	// Sweep is the steps of ModeSweep (ParseSweep, DefaultSweep).
	Sweep []SweepStep
	// PID is the server's process id, whose /proc/<pid>/status ModeSweep
	// reads (VmRSS and VmHWM); 0 reads process_resident_memory_bytes
	// from its /metrics instead.
	PID int

	// Progress shows progress bars on the progress writer.
	Progress bool
}

// DefaultConfig targets the all-in-one on its default ports.
func DefaultConfig() Config {
	return Config{
		HTTPURL:         "http://127.0.0.1:9091",
		NATSURL:         "nats://127.0.0.1:4222",
		Events:          100_000,
		Keys:            1000,
		Skew:            1.1,
		Prefix:          "loadtest",
		Seed:            1,
		Concurrency:     32,
		Batch:           1,
		Window:          1024,
		Format:          FormatJSON,
		FreshnessRate:   5000,
		Duration:        10 * time.Second,
		Timeout:         2 * time.Minute,
		Until:           UntilView,
		VerifyHTTPEvery: 100,
		VerifyPoll:      time.Millisecond,
		Reservations:    DefaultReservations,
		Subscribers:     DefaultSubscribers,
		FeedDuration:    DefaultFeedDuration,
		Progress:        true,
	}
}

// Validate reports every setting that is out of range, and refuses
// non-loopback targets unless AllowRemote is set.
func (c Config) Validate() error {
	var errs []error
	if err := checkTarget(c.HTTPURL, []string{"http", "https"}, c.AllowRemote); err != nil {
		errs = append(errs, fmt.Errorf("--http: %w", err))
	}
	if err := checkTarget(c.NATSURL, []string{"nats", "tls"}, c.AllowRemote); err != nil {
		errs = append(errs, fmt.Errorf("--nats: %w", err))
	}
	switch c.Via {
	case "", ViaHTTP, ViaNATS:
	default:
		errs = append(errs, fmt.Errorf("--via %q: want http or nats", c.Via))
	}
	switch c.Format {
	case FormatJSON, FormatAvro:
	default:
		errs = append(errs, fmt.Errorf("--format %q: want json or avro", c.Format))
	}
	switch c.Until {
	case UntilView, UntilStatus:
	default:
		errs = append(errs, fmt.Errorf("--until %q: want view or status", c.Until))
	}
	if c.Events < 1 || c.Events > 100_000_000 {
		errs = append(errs, fmt.Errorf("--events %d not in 1..100000000", c.Events))
	}
	if c.Keys < 1 || c.Keys > 10_000_000 {
		errs = append(errs, fmt.Errorf("--keys %d not in 1..10000000", c.Keys))
	}
	if c.Skew != 0 && c.Skew <= 1 {
		errs = append(errs, fmt.Errorf("--skew %v: a Zipf exponent must be > 1 (0 for uniform)", c.Skew))
	}
	if c.Prefix == "" {
		errs = append(errs, errors.New("--prefix must not be empty"))
	}
	if c.Concurrency < 1 || c.Concurrency > 4096 {
		errs = append(errs, fmt.Errorf("--concurrency %d not in 1..4096", c.Concurrency))
	}
	if c.Batch < 1 || c.Batch > 500 {
		errs = append(errs, fmt.Errorf("--batch %d not in 1..500", c.Batch))
	}
	if c.Window < 1 || c.Window > 65536 {
		errs = append(errs, fmt.Errorf("--window %d not in 1..65536", c.Window))
	}
	if c.Rate < 0 || c.FreshnessRate <= 0 || c.WithIngestRate < 0 {
		errs = append(errs, errors.New("rates must be positive (--rate 0 means unpaced)"))
	}
	if c.Duration <= 0 || c.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("--duration %v not in (0, 1h]", c.Duration))
	}
	if c.Timeout <= 0 || c.Timeout > time.Hour {
		errs = append(errs, fmt.Errorf("--timeout %v not in (0, 1h]", c.Timeout))
	}
	if c.VerifyHTTPEvery < 0 {
		errs = append(errs, fmt.Errorf("--verify-http %d must be >= 0", c.VerifyHTTPEvery))
	}
	if c.Reservations < 1 || c.Reservations > 10_000_000 {
		errs = append(errs, fmt.Errorf("--reservations %d not in 1..10000000", c.Reservations))
	}
	// The server serves at most 1,000 feeds per process.
	if c.Subscribers < 1 || c.Subscribers > 1000 {
		errs = append(errs, fmt.Errorf("--subscribers %d not in 1..1000", c.Subscribers))
	}
	if c.FeedDuration <= 0 || c.FeedDuration > time.Hour {
		errs = append(errs, fmt.Errorf("--feed-duration %v not in (0, 1h]", c.FeedDuration))
	}
	for _, st := range c.Sweep {
		if st.Keys > 10_000_000 || st.events(c) > 100_000_000 {
			errs = append(errs, fmt.Errorf("--sweep step %s: at most 10m keys and 100m events", st))
		}
	}
	if c.PID < 0 {
		errs = append(errs, fmt.Errorf("--pid %d must be >= 0", c.PID))
	}
	if c.VerifyPoll <= 0 {
		errs = append(errs, errors.New("--verify-poll must be positive"))
	}
	return errors.Join(errs...)
}

// ValidateFor is Validate and the settings mode cannot honour: commands
// are single POSTs, so ModeCommands refuses --via nats and --batch > 1
// rather than measure something else than asked.
func (c Config) ValidateFor(mode Mode) error {
	errs := []error{c.Validate()}
	if mode == ModeCommands {
		if c.Via == ViaNATS {
			errs = append(errs, errors.New("--via nats: commands are HTTP POSTs (use ingest --via nats)"))
		}
		if c.Batch != 1 {
			errs = append(errs, fmt.Errorf("--batch %d: commands posts single commands (use ingest --via http --batch)", c.Batch))
		}
	}
	return errors.Join(errs...)
}
