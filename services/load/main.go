// Command load drives a running inventory system over HTTP or NATS and
// reports throughput, freshness and query latency against the raw
// JetStream publish rate of the same server:
//
//	go run ./services/load <baseline|ceiling|ingest|freshness|queries|commands|all|reservations|feed|sweep> [flags]
//
// It targets 127.0.0.1 only unless --allow-remote is given. See
// BENCHMARKS.md for the method and the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/loadtest"
)

// main runs through app.MainArgs like every program in services/: the
// same signal handling, --exit-with-parent and exit statuses. The mode
// comes before the flags.
func main() {
	f := app.NewFlags("load")
	fs := f.FlagSet
	fs.Usage = usage(fs)
	d := loadtest.DefaultConfig()
	var c loadtest.Config
	fs.StringVar(&c.HTTPURL, "http", d.HTTPURL, "command and query API")
	fs.StringVar(&c.NATSURL, "nats", d.NATSURL, "NATS server of the system")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow targets other than localhost/127.0.0.1")
	via := fs.String("via", "", "transport of events: http or nats (default nats; all: ingest over both)")
	fs.IntVar(&c.Events, "events", d.Events, "events per ingest and baseline")
	fs.IntVar(&c.Keys, "keys", d.Keys, "distinct (location, SKU) keys")
	fs.Float64Var(&c.Skew, "skew", d.Skew, "Zipf exponent of key popularity (> 1; 0 = uniform)")
	fs.BoolVar(&c.Sequential, "sequential", false, "draw keys in order, each once before any again (overrides --skew)")
	fs.StringVar(&c.Prefix, "prefix", d.Prefix, "prefix of the locations and SKUs written")
	fs.Uint64Var(&c.Seed, "seed", d.Seed, "random seed")
	fs.IntVar(&c.Concurrency, "concurrency", d.Concurrency, "HTTP requests in flight (ingest over HTTP, queries, commands)")
	fs.IntVar(&c.Batch, "batch", d.Batch, "commands per HTTP ingest request (> 1: POST /inventory/batch)")
	fs.IntVar(&c.Window, "window", d.Window, "NATS async publishes awaiting their ack")
	format := fs.String("format", string(d.Format), "encoding of events published over NATS: json (as `nats pub`) or avro (as command.Service, schema ids from the registry)")
	fs.Float64Var(&c.Rate, "rate", 0, "events/s: ingest pacing (0 = max), freshness rate (0 = 1000), feed rate (0 = 5000)")
	fs.Float64Var(&c.FreshnessRate, "freshness-rate", d.FreshnessRate, "events/s of the freshness step of all")
	fs.DurationVar(&c.Duration, "duration", d.Duration, "length of freshness, queries and commands runs")
	fs.DurationVar(&c.Timeout, "timeout", d.Timeout, "deadline for the view to catch up after publishing (commands: after the run)")
	until := fs.String("until", string(d.Until), "ingest, sweep: completion signal: view (a KV watch sees every key's last event) or status (GET /calculator/status: every partition's lastSeq)")
	fs.IntVar(&c.VerifyHTTPEvery, "verify-http", d.VerifyHTTPEvery, "freshness: 1 in N events as HTTP POST polled with GET (0 = off)")
	fs.DurationVar(&c.VerifyPoll, "verify-poll", d.VerifyPoll, "interval of the GET poll of --verify-http")
	fs.Float64Var(&c.WithIngestRate, "with-ingest-rate", 0, "queries: run an ingest at this rate meanwhile (events/s)")
	fs.IntVar(&c.Reservations, "reservations", d.Reservations, "reservations: carts per section")
	fs.IntVar(&c.Subscribers, "subscribers", d.Subscribers, "feed: GET /inventory/changes held open at once")
	fs.DurationVar(&c.FeedDuration, "feed-duration", d.FeedDuration, "feed: how long adjustments are published")
	sweep := fs.String("sweep", loadtest.DefaultSweep, "sweep: steps KEYS[:uniform|zipf|zipf=S[:EVENTS]], comma-separated (events default max(--events, KEYS))")
	fs.IntVar(&c.PID, "pid", 0, "sweep: the server's pid, to read VmRSS/VmHWM from /proc (default: process_resident_memory_bytes from /metrics)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "no progress bars")
	mode, args := "", os.Args[1:]
	if len(args) > 0 {
		mode, args = args[0], args[1:]
	}
	app.MainArgs(f, args, func(ctx context.Context, _ *slog.Logger) error {
		c.Via = loadtest.Via(*via)
		c.Format = loadtest.Format(*format)
		c.Until = loadtest.Until(*until)
		c.Progress = !*quiet
		steps, err := loadtest.ParseSweep(*sweep)
		if err != nil {
			return err
		}
		c.Sweep = steps
		return run(ctx, mode, fs, c, *asJSON)
	})
}

func usage(fs *flag.FlagSet) func() {
	return func() {
		fmt.Fprintf(fs.Output(), "usage: load <%s|%s|%s|%s|%s|%s|%s|%s|%s|%s> [flags]\n\n", loadtest.ModeIngest, loadtest.ModeFreshness,
			loadtest.ModeQueries, loadtest.ModeCommands, loadtest.ModeBaseline, loadtest.ModeCeiling, loadtest.ModeAll, loadtest.ModeReservations, loadtest.ModeFeed, loadtest.ModeSweep)
		fs.PrintDefaults()
	}
}

// run performs mode and prints its report, also when a step failed.
func run(ctx context.Context, mode string, fs *flag.FlagSet, c loadtest.Config, asJSON bool) error {
	if mode == "" {
		fs.Usage()
		return errors.New("no mode given")
	}
	m, err := loadtest.ParseMode(mode)
	if err != nil {
		fs.Usage()
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v", fs.Args())
	}
	rep, err := loadtest.Run(ctx, m, c, os.Stderr)
	if rep != nil {
		var werr error
		if asJSON {
			werr = rep.WriteJSON(os.Stdout)
		} else {
			werr = rep.WriteTable(os.Stdout)
		}
		err = errors.Join(err, werr)
	}
	return err
}
