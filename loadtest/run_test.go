package loadtest_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/loadtest"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// startSystem runs what the all-in-one runs, wired the same way, on an
// embedded server.
func startSystem(t *testing.T) (httpURL, natsURL string) {
	t.Helper()
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	sys.StartCalculator(t, nil, nil)
	return sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL, sys.ClientURL()
}

// A small `all` run against a real system measures every step, and every
// rate is related to the baseline.
func TestRunAllAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	httpURL, natsURL := startSystem(t)
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = httpURL, natsURL
	cfg.Events, cfg.Keys = 400, 20
	cfg.FreshnessRate, cfg.Duration = 300, time.Second
	cfg.VerifyHTTPEvery = 10
	cfg.WithIngestRate = 100
	cfg.Concurrency, cfg.Window = 4, 64
	cfg.Timeout = 20 * time.Second
	cfg.Progress = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeAll, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		mode   loadtest.Mode
		via    loadtest.Via
		metric string
	}{
		{loadtest.ModeBaseline, "", "publish rate"},
		{loadtest.ModeCeiling, "", "healthz"},
		{loadtest.ModeIngest, loadtest.ViaNATS, "applied end to end"},
		{loadtest.ModeIngest, loadtest.ViaHTTP, "applied end to end"},
		{loadtest.ModeFreshness, loadtest.ViaNATS, "ack→visible p99"},
		{loadtest.ModeFreshness, loadtest.ViaNATS, "POST→visible (GET) p99"},
		{loadtest.ModeQueries, "", "queries"},
		{loadtest.ModeQueries, "", "ingest accepted meanwhile"},
		{loadtest.ModeCommands, loadtest.ViaHTTP, "commands"},
	}
	if len(rep.Sections) != 8 {
		t.Fatalf("%d sections, want 8", len(rep.Sections))
	}
	if last := rep.Sections[7]; last.Mode != loadtest.ModeCommands {
		t.Errorf("last section %s, want commands after queries", last.Mode)
	}
	for _, w := range want {
		found := false
		for _, s := range rep.Sections {
			if s.Mode != w.mode || s.Via != w.via {
				continue
			}
			if m, ok := s.Get(w.metric); ok {
				found = true
				if m.Value <= 0 || m.VsBaseline == nil {
					t.Errorf("%s %s %s = %v (vs baseline %v)", w.mode, w.via, w.metric, m.Value, m.VsBaseline)
				}
			}
		}
		if !found {
			t.Errorf("no %s via %q metric %q", w.mode, w.via, w.metric)
		}
	}
	// The HTTP figures of the same run come with their ratio to the
	// ceiling; the NATS ones do not.
	for _, w := range []struct {
		mode    loadtest.Mode
		via     loadtest.Via
		metric  string
		related bool
	}{
		{loadtest.ModeQueries, "", "queries", true},
		{loadtest.ModeQueries, "", "GET p99", true},
		{loadtest.ModeIngest, loadtest.ViaHTTP, "accepted", true},
		{loadtest.ModeIngest, loadtest.ViaNATS, "accepted", false},
		{loadtest.ModeQueries, "", "ingest accepted meanwhile", false},
		{loadtest.ModeCommands, loadtest.ViaHTTP, "commands", true},
		{loadtest.ModeCommands, loadtest.ViaHTTP, "POST→201 p99", true},
	} {
		for _, s := range rep.Sections {
			if s.Mode != w.mode || s.Via != w.via {
				continue
			}
			if m, ok := s.Get(w.metric); ok && (m.VsHealthz != nil) != w.related {
				t.Errorf("%s via %q %s: vs healthz %v, want related %v", w.mode, w.via, w.metric, m.VsHealthz, w.related)
			}
		}
	}
	// Freshness samples the server's memory from /metrics as it runs.
	for _, s := range rep.Sections {
		if s.Mode != loadtest.ModeFreshness {
			continue
		}
		for _, name := range []string{"server RSS max", "server heap in use max"} {
			if m, ok := s.Get(name); !ok || m.Value <= 0 || m.Unit != loadtest.Bytes {
				t.Errorf("freshness %s = %+v (found %v)", name, m, ok)
			}
		}
		if n, _ := s.Get("memory samples"); n.Value < 2 {
			t.Errorf("freshness took %v memory samples, want at least a first and a last", n.Value)
		}
	}
	for _, s := range rep.Sections {
		if acked, ok := s.Get("events acked"); ok && s.Mode == loadtest.ModeIngest && acked.Value != 400 {
			t.Errorf("%s via %s acked %v events, want 400", s.Mode, s.Via, acked.Value)
		}
		if errs, ok := s.Get("send errors"); ok && errs.Value != 0 {
			t.Errorf("%s via %s: %v send errors", s.Mode, s.Via, errs.Value)
		}
	}
	var sb strings.Builder
	if err := rep.WriteTable(&sb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
}

// A small commands run against a real system posts single adjustments
// for its duration with no watch running, relates them to the ceiling
// measured first, and then finds every acked command applied: the view
// of each key written reaches the highest sequence acked for it, checked
// here again with the service's own reads.
func TestRunCommandsAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	sys.StartCalculator(t, nil, nil)
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL, sys.ClientURL()
	cfg.Keys, cfg.Concurrency, cfg.Duration = 20, 4, time.Second
	cfg.Prefix = "cmdmode"
	cfg.Timeout, cfg.Progress = 20*time.Second, false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeCommands, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sections) != 2 || rep.Sections[0].Mode != loadtest.ModeCeiling || rep.Sections[1].Mode != loadtest.ModeCommands {
		t.Fatalf("sections %+v, want the ceiling then commands", rep.Sections)
	}
	s := rep.Sections[1]
	get := func(name string) loadtest.Metric {
		m, ok := s.Get(name)
		if !ok {
			t.Fatalf("no metric %q in %+v", name, s)
		}
		return m
	}
	acked := get("commands acked").Value
	if acked < 1 || get("errors").Value != 0 || s.Error != "" {
		t.Fatalf("acked %v, errors %v, section error %q", acked, get("errors").Value, s.Error)
	}
	if a := get("applied after the run").Value; a != acked {
		t.Fatalf("applied after the run %v, acked %v", a, acked)
	}
	if k := get("keys written").Value; k < 1 || k > 20 {
		t.Fatalf("keys written %v of 20", k)
	}
	for _, name := range []string{"commands", "POST→201 p50", "POST→201 p95", "POST→201 p99", "POST→201 max"} {
		if m := get(name); m.Value <= 0 || m.VsHealthz == nil {
			t.Errorf("%s = %v, vs healthz %v", name, m.Value, m.VsHealthz)
		}
	}
	if get("time to apply after the run").Unit != loadtest.Seconds {
		t.Error("time to apply is not in seconds")
	}
	// The commands went through the command API into the stream: as many
	// adjustments of the run's keys as were acked, no more (a cut-off
	// request would be stored but not counted).
	st, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stored := info.State.Msgs // nothing else writes events in this test
	if stored != uint64(acked) {
		t.Fatalf("%d events of the run stored, %v acked", stored, acked)
	}
}

// With no calculator applying events, the commands are acked but the view
// never shows them: the run says so at its timeout instead of reporting
// them applied.
func TestRunCommandsFailsWhenNothingIsApplied(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL, sys.ClientURL()
	cfg.Keys, cfg.Concurrency, cfg.Duration = 5, 2, 300*time.Millisecond
	cfg.Timeout, cfg.Progress = 500*time.Millisecond, false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeCommands, cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "still behind") {
		t.Fatalf("err %v, want the view reported behind", err)
	}
	s := rep.Sections[len(rep.Sections)-1]
	if m, _ := s.Get("commands acked"); s.Mode != loadtest.ModeCommands || m.Value < 1 {
		t.Fatalf("section %+v: want commands acked before the wait", s)
	}
	if _, ok := s.Get("applied after the run"); ok {
		t.Fatal("commands reported applied with no calculator running")
	}
}

func TestRunRefusesRemoteTargets(t *testing.T) {
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL = "http://203.0.113.7:9091"
	if _, err := loadtest.Run(context.Background(), loadtest.ModeIngest, cfg, nil); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err %v, want a refusal of the remote target", err)
	}
}

// A small reservations run against a real system grants every cart in
// all four sections and reads the server's retry counter.
func TestRunReservationsAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	httpURL, natsURL := startSystem(t)
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = httpURL, natsURL
	cfg.Keys, cfg.Reservations, cfg.Concurrency = 10, 20, 4
	cfg.Timeout = 20 * time.Second
	cfg.Progress = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeReservations, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sections) != 5 || rep.Sections[0].Mode != loadtest.ModeCeiling {
		t.Fatalf("%d sections, want the ceiling and 4 shapes", len(rep.Sections))
	}
	for _, s := range rep.Sections[1:] {
		if m, _ := s.Get("reservations granted"); m.VsHealthz == nil {
			t.Errorf("%s: reservations granted not related to the ceiling", s.Settings)
		}
		g, _ := s.Get("granted")
		e, _ := s.Get("errors")
		_, retries := s.Get("decisions retried (key moved)")
		if g.Value != 20 || e.Value != 0 || !retries || s.Error != "" {
			t.Errorf("%s: granted %v errors %v, retries read %v, error %q", s.Settings, g.Value, e.Value, retries, s.Error)
		}
	}
}

// A small feed run against a real system with the live feed mounted as
// the all-in-one mounts it: every subscriber opens, receives every acked
// event (deliveries measured = events acked × subscribers) and none is
// dropped.
func TestRunFeedAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	sys.StartCalculator(t, nil, nil)
	log := slog.New(slog.DiscardHandler)
	e := sys.API(log)
	if err := app.RegisterLive(e, sys.JS, log); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = srv.URL, sys.ClientURL()
	cfg.Subscribers, cfg.Rate, cfg.FeedDuration, cfg.Keys = 3, 100, time.Second, 10
	cfg.Window = 64
	cfg.Progress = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeFeed, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sections) != 1 || rep.Sections[0].Mode != loadtest.ModeFeed || rep.Sections[0].Error != "" {
		t.Fatalf("sections %+v", rep.Sections)
	}
	s := rep.Sections[0]
	get := func(name string) float64 {
		m, ok := s.Get(name)
		if !ok {
			t.Fatalf("no metric %q", name)
		}
		return m.Value
	}
	acked := get("events acked")
	if acked != 100 || get("send errors") != 0 || get("subscribers") != 3 {
		t.Fatalf("acked %v, send errors %v, subscribers %v", acked, get("send errors"), get("subscribers"))
	}
	if get("subscribers dropped as slow") != 0 || get("subscribers ended otherwise") != 0 {
		t.Fatalf("dropped %v, ended %v", get("subscribers dropped as slow"), get("subscribers ended otherwise"))
	}
	if get("deliveries expected") != 3*acked || get("deliveries measured") != 3*acked || get("deliveries missed") != 0 {
		t.Fatalf("deliveries expected %v measured %v missed %v", get("deliveries expected"), get("deliveries measured"), get("deliveries missed"))
	}
	// A change may fold several events of its key, never more changes
	// than events reach a subscriber of these keys alone.
	if r := get("changes received"); r < 3 || r > 3*acked {
		t.Fatalf("changes received %v for %v events to 3 subscribers", r, acked)
	}
	if get("ack→received max") < get("ack→received p50") {
		t.Fatal("max below p50")
	}
	var sb strings.Builder
	if err := rep.WriteTable(&sb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
}

// An ingest with --format avro publishes what command.Service does (an
// Avro body with the registry's schema id, marked by its Content-Type)
// and the system applies every event: a body the calculator could not
// read would be dead-lettered and the view would never catch up.
func TestRunIngestAvroAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4, Avro: true})
	sys.StartCalculator(t, nil, nil)
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL, sys.ClientURL()
	cfg.Via, cfg.Format = loadtest.ViaNATS, loadtest.FormatAvro
	cfg.Events, cfg.Keys, cfg.Window = 300, 20, 64
	cfg.Timeout, cfg.Progress = 20*time.Second, false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeIngest, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := rep.Sections[0].Get("applied end to end"); !ok || m.Value <= 0 || !strings.Contains(rep.Sections[0].Settings, "format=avro") {
		t.Fatalf("ingest section %+v", rep.Sections[0])
	}
	st, err := sys.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		t.Fatal(err)
	}
	if ct := m.Header.Get(streams.HeaderContentType); ct != wire.ContentTypeAvro {
		t.Errorf("last event's Content-Type %q, want %q", ct, wire.ContentTypeAvro)
	}
	if _, err := sys.Wire.Events.DecodeEvent(ctx, m.Data); err != nil {
		t.Errorf("last event is not the system's Avro: %v", err)
	}
}

// A small sweep against a real system: a baseline, then one ingest per
// step on keys of its own, each with its applied rate related to the
// baseline and the server's memory (this process's, the server being
// embedded) before and after.
func TestRunSweepAgainstEmbeddedSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a whole embedded system")
	}
	httpURL, natsURL := startSystem(t)
	cfg := loadtest.DefaultConfig()
	cfg.HTTPURL, cfg.NATSURL = httpURL, natsURL
	cfg.Events, cfg.Keys, cfg.Window, cfg.Progress = 200, 20, 64, false
	steps, err := loadtest.ParseSweep("20:uniform:200,50:zipf:300")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Sweep, cfg.PID = steps, os.Getpid()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, loadtest.ModeSweep, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sections) != 3 || rep.Sections[0].Mode != loadtest.ModeBaseline {
		t.Fatalf("sections %+v", rep.Sections)
	}
	for i, s := range rep.Sections[1:] {
		if s.Mode != loadtest.ModeSweep || s.Error != "" || !strings.Contains(s.Settings, "step="+steps[i].String()) {
			t.Fatalf("step %d: %+v", i, s)
		}
		applied, ok := s.Get("applied end to end")
		if !ok || applied.Value <= 0 || applied.VsBaseline == nil || *applied.VsBaseline <= 0 {
			t.Fatalf("step %d: applied %+v, want a rate related to the baseline", i, applied)
		}
		if acked, _ := s.Get("events acked"); int(acked.Value) != []int{200, 300}[i] {
			t.Fatalf("step %d: %v events acked", i, acked.Value)
		}
		for _, name := range []string{"RSS before", "RSS after", "RSS peak (VmHWM)"} {
			if m, ok := s.Get(name); !ok || m.Value < 1<<20 || m.Unit != loadtest.Bytes {
				t.Fatalf("step %d: %s = %+v", i, name, m)
			}
		}
	}
	var sb strings.Builder
	if err := rep.WriteTable(&sb); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sb.String())
}
