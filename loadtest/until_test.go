package loadtest_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/loadtest"
	"github.com/sellable/inventory/streams"
)

// statusSystem serves the system's API with GET /calculator/status of
// calc (nil: no calculator route, as a command-only API).
func statusSystem(t *testing.T, sys *systemtest.System, calc *calculator.Calculator) string {
	t.Helper()
	e := sys.API(slog.New(slog.DiscardHandler))
	if calc != nil {
		api.RegisterCalculatorStatus(e, func(context.Context) any { return calc.Status() })
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

func untilStatusConfig(httpURL, natsURL string) loadtest.Config {
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = httpURL, natsURL
	cfg.Events, cfg.Keys, cfg.Window = 3000, 50, 256
	cfg.Until, cfg.Progress = loadtest.UntilStatus, false
	cfg.Timeout = 20 * time.Second
	return cfg
}

// With --until status an ingest ends only once the calculator applied
// every event it published: the calculator's own count of applied events,
// read the moment the run returns, is every event acked (a signal that
// fired early would leave some uncounted: the calculator applies the
// run's 3,000 events in many batches).
func TestIngestUntilStatusEndsWhenEveryEventIsApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	calc, _ := sys.StartCalculator(t, nil, nil)
	cfg := untilStatusConfig(statusSystem(t, sys, calc), sys.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeIngest, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var applied uint64
	for _, ps := range calc.Stats() {
		applied += ps.Applied
	}
	s := rep.Sections[len(rep.Sections)-1]
	acked, _ := s.Get("events acked")
	if uint64(acked.Value) != applied || applied != uint64(cfg.Events) {
		t.Fatalf("ended with %d events applied of %v acked, want all %d", applied, acked.Value, cfg.Events)
	}
	if !strings.Contains(s.Settings, "until=status") {
		t.Fatalf("settings %q do not say the completion signal", s.Settings)
	}
	if _, ok := s.Get("kv updates seen"); ok {
		t.Fatal("a status run reported a view watch it does not run")
	}
}

// No calculator: the run fails at its deadline naming the partitions
// behind. No calculator route: it fails before publishing, saying what
// --until status needs.
func TestIngestUntilStatusFailsWithoutACalculator(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cfg := untilStatusConfig(statusSystem(t, sys, nil), sys.ClientURL())
	_, err := loadtest.Run(ctx, loadtest.ModeIngest, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "/calculator/status") {
		t.Fatalf("err %v, want the missing status route named", err)
	}
	if n, _ := sys.JS.Stream(ctx, streams.EventStream); n != nil {
		if info, err := n.Info(ctx); err == nil && info.State.Msgs != 0 {
			t.Fatalf("%d events published before the refusal", info.State.Msgs)
		}
	}

	calc, stop := sys.StartCalculator(t, nil, nil)
	stop()
	cfg = untilStatusConfig(statusSystem(t, sys, calc), sys.ClientURL())
	cfg.Timeout = 500 * time.Millisecond
	_, err = loadtest.Run(ctx, loadtest.ModeIngest, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "partitions still behind") {
		t.Fatalf("err %v, want the partitions reported behind", err)
	}
}
