package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileIsNearestRank(t *testing.T) {
	s := make([]time.Duration, 100)
	for i := range s {
		s[i] = ms(100 - i) // unsorted on purpose: summarize sorts
	}
	got := summarize(s)
	want := Summary{Count: 100, P50: ms(50), P95: ms(95), P99: ms(99), Max: ms(100), Mean: 50500 * time.Microsecond}
	if got != want {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	cases := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 50, ms(7)},
		{[]time.Duration{ms(7)}, 99, ms(7)},
		{[]time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{[]time.Duration{ms(1), ms(2)}, 51, ms(2)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 100, ms(4)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 0, ms(1)},
	}
	for _, c := range cases {
		if got := percentile(c.samples, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.samples, c.p, got, c.want)
		}
	}
	if (summarize(nil) != Summary{}) {
		t.Fatal("empty summary is not zero")
	}
}

func TestLatenciesClampNegative(t *testing.T) {
	var l latencies
	l.add(-ms(3))
	l.add(ms(4))
	if s := l.summary(); s.P50 != 0 || s.Max != ms(4) || s.Count != 2 {
		t.Fatalf("summary %+v", s)
	}
}

func TestZipfPickerIsSkewedAndInRange(t *testing.T) {
	const keys, draws = 1000, 200_000
	counts := make([]int, keys)
	p := newPicker(42, 1.1, keys)
	for range draws {
		k := p.next()
		if k < 0 || k >= keys {
			t.Fatalf("key %d out of range", k)
		}
		counts[k]++
	}
	// Rank 0 is hottest, and a few keys take a large share.
	top10 := 0
	for _, c := range counts[:10] {
		top10 += c
	}
	if counts[0] < counts[1] || counts[1] < counts[50] || top10 < draws/3 {
		t.Fatalf("not skewed: first counts %v, top 10 share %d/%d", counts[:5], top10, draws)
	}
	if counts[0] > draws/2 {
		t.Fatalf("hottest key has %d of %d draws, too skewed for s=1.1", counts[0], draws)
	}
	// The same seed gives the same sequence.
	a, b := newPicker(7, 1.1, keys), newPicker(7, 1.1, keys)
	for range 100 {
		if a.next() != b.next() {
			t.Fatal("same seed, different keys")
		}
	}
}

func TestUniformPickerCoversKeys(t *testing.T) {
	const keys = 10
	counts := make([]int, keys)
	p := newPicker(1, 0, keys)
	for range 10_000 {
		counts[p.next()]++
	}
	for k, c := range counts {
		if c < 800 || c > 1200 {
			t.Fatalf("key %d drawn %d times of 10000, want about 1000", k, c)
		}
	}
	if one := newPicker(1, 1.5, 1); one.next() != 0 {
		t.Fatal("a single key must always be picked")
	}
}

// --sequential writes every key once before any again, whatever --skew.
func TestSequentialGeneratorWritesEveryKeyOnce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Keys, cfg.Sequential = 1000, true
	g := generatorFor(cfg, 1)
	seen := make([]bool, cfg.Keys)
	for i := range cfg.Keys {
		k := g.next().key
		if seen[k] {
			t.Fatalf("key %d drawn twice in the first %d events", k, i+1)
		}
		seen[k] = true
	}
	if k := g.next().key; k != 0 {
		t.Fatalf("after every key, drew %d, want 0 again", k)
	}
}

func TestGeneratorEventsAreValid(t *testing.T) {
	g := newGenerator(3, 1.2, 50)
	kinds := map[sellable.Kind]int{}
	for range 1000 {
		e := g.next()
		kinds[e.kind]++
		if err := sellable.ValidateCount(e.kind, e.count); err != nil {
			t.Fatalf("event %+v: %v", e, err)
		}
		if e.key < 0 || e.key >= 50 {
			t.Fatalf("key %d out of range", e.key)
		}
	}
	if kinds[sellable.Adjustment] < 600 || kinds[sellable.Reservation] < 150 {
		t.Fatalf("kind mix %v", kinds)
	}
}

func TestKeySetNamesAreKVKeys(t *testing.T) {
	ks := newKeySet("lt", 25)
	if ks.len() != 25 || ks.keys[3].SKU != "lt-000003" || ks.keys[13].LocationID != "lt-L3" {
		t.Fatalf("keys %v", ks.keys[:4])
	}
	for i, k := range ks.keys {
		if err := k.Validate(); err != nil {
			t.Fatal(err)
		}
		if ks.index[streams.KeyToken(k)] != i || ks.names[i] != streams.KeyToken(k) {
			t.Fatalf("key %d not indexed by its KV name", i)
		}
	}
}

func TestTargetsMustBeLoopback(t *testing.T) {
	cases := []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"http://127.0.0.1:9091", false, true},
		{"http://localhost:9091", false, true},
		{"http://127.3.2.1:9091", false, true},
		{"http://[::1]:9091", false, true},
		{"http://10.0.0.5:9091", false, false},
		{"http://example.com", false, false},
		{"http://example.com", true, true},
		{"ftp://127.0.0.1", false, false},
		{"http://", false, false},
	}
	for _, c := range cases {
		err := checkTarget(c.url, []string{"http"}, c.remote)
		if (err == nil) != c.ok {
			t.Errorf("checkTarget(%q, remote=%v) = %v, want ok=%v", c.url, c.remote, err, c.ok)
		}
	}
	if err := checkTarget("http://192.168.1.1", []string{"http"}, false); !errors.Is(err, ErrRemoteTarget) {
		t.Fatalf("err %v, want ErrRemoteTarget", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	c := DefaultConfig()
	c.NATSURL = "nats://10.1.1.1:4222"
	c.Skew = 0.5
	c.Events = 0
	c.Via = "carrier-pigeon"
	c.Format = "protobuf"
	err := c.Validate()
	for _, want := range []string{"--nats", "--skew", "--events", "--via", "--format"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestPacerSpacesOperations(t *testing.T) {
	p := newPacer(1000)
	if d := p.due(500).Sub(p.start); d != 500*time.Millisecond {
		t.Fatalf("due(500) after %v, want 500ms", d)
	}
	if z := newPacer(0); z.due(1_000_000) != z.start {
		t.Fatal("an unpaced pacer must never wait")
	}
}

func TestFormatValue(t *testing.T) {
	cases := []struct {
		v    float64
		u    Unit
		want string
	}{
		{1234567.4, PerSecond, "1,234,567 /s"},
		{999, PerSecond, "999 /s"},
		{1000, Count, "1,000"},
		{-1234, Count, "-1,234"},
		{0.1234, Millis, "0.12 ms"},
		{2.5, Seconds, "2.50 s"},
		{0.182, Ratio, "18.2 %"},
		{62, Bytes, "62 B"},
	}
	for _, c := range cases {
		if got := formatValue(c.v, c.u); got != c.want {
			t.Errorf("formatValue(%v, %s) = %q, want %q", c.v, c.u, got, c.want)
		}
	}
}

func sampleReport() *Report {
	base := Section{Mode: ModeBaseline, Settings: "events=10"}
	base.rate(baselineRate, 80000)
	base.add(baselineRTT, 0.1, Millis)
	ing := Section{Mode: ModeIngest, Via: ViaNATS, Settings: "events=10"}
	ing.rate("accepted", 20000)
	ing.count("send errors", 0)
	ing.latency("send→ack", Summary{P50: ms(1), P99: ms(2), Max: ms(3)}, false)
	r := &Report{Mode: ModeAll, HTTP: "http://127.0.0.1:9091", NATS: "nats://127.0.0.1:4222", Partitions: 8,
		Sections: []Section{base, ing}}
	r.relate()
	return r
}

func TestReportRatiosToBaseline(t *testing.T) {
	r := sampleReport()
	acc, _ := r.Sections[1].Get("accepted")
	if acc.VsBaseline == nil || *acc.VsBaseline != 0.25 {
		t.Fatalf("accepted vs baseline %v, want 0.25", acc.VsBaseline)
	}
	p50, _ := r.Sections[1].Get("send→ack p50")
	if p50.VsBaseline == nil || *p50.VsBaseline != 10 {
		t.Fatalf("latency vs baseline %v, want 10", p50.VsBaseline)
	}
	if errs, _ := r.Sections[1].Get("send errors"); errs.VsBaseline != nil {
		t.Fatal("a count got a ratio")
	}
	noBase := &Report{Sections: []Section{r.Sections[1]}}
	noBase.Sections[0].Metrics = []Metric{{Name: "accepted", Value: 1, Unit: PerSecond}}
	noBase.relate()
	if noBase.Sections[0].Metrics[0].VsBaseline != nil {
		t.Fatal("ratio without a baseline")
	}
}

// httpReport is a run with a ceiling, queries and an HTTP ingest.
func httpReport(ceilErr string) *Report {
	ceil := Section{Mode: ModeCeiling, Settings: "concurrency=64", Error: ceilErr}
	ceil.rate(ceilingRate, 40000)
	ceil.latency(ceilingLatency, Summary{P50: ms(1), P95: ms(2), P99: ms(4), Max: ms(10)}, true)
	q := Section{Mode: ModeQueries, Settings: "concurrency=64"}
	q.httpRate("queries", 30000)
	q.count("answered", 300000)
	q.httpLatency("GET", Summary{P50: ms(2), P95: ms(3), P99: ms(6), Max: ms(40)}, true)
	q.rate("ingest accepted meanwhile", 1000) // over NATS: not an HTTP figure
	ing := Section{Mode: ModeIngest, Via: ViaHTTP, Settings: "events=10"}
	ing.httpRate("accepted", 10000)
	ing.httpLatency("send→ack", Summary{P50: ms(3), P99: ms(8), Max: ms(20)}, false)
	r := &Report{Mode: ModeAll, Sections: []Section{ceil, q, ing}}
	r.relate()
	return r
}

func TestReportRatiosToHealthz(t *testing.T) {
	r := httpReport("")
	for _, c := range []struct {
		sec    int
		metric string
		want   float64
	}{
		{1, "queries", 0.75},
		{1, "GET p50", 2},
		{1, "GET p95", 1.5},
		{1, "GET p99", 1.5}, // p99 by p99
		{1, "GET max", 4},
		{2, "accepted", 0.25},
		{2, "send→ack p99", 2},
		{0, "healthz", 1},
	} {
		m, _ := r.Sections[c.sec].Get(c.metric)
		if c.sec == 0 {
			if m.VsHealthz != nil {
				t.Errorf("the ceiling related to itself: %v", *m.VsHealthz)
			}
			continue
		}
		if m.VsHealthz == nil || *m.VsHealthz != c.want {
			t.Errorf("%s vs healthz %v, want %v", c.metric, m.VsHealthz, c.want)
		}
	}
	for _, name := range []string{"answered", "ingest accepted meanwhile"} {
		if m, _ := r.Sections[1].Get(name); m.VsHealthz != nil {
			t.Errorf("%s got a ratio to healthz", name)
		}
	}
	for _, s := range httpReport("connection refused").Sections {
		for _, m := range s.Metrics {
			if m.VsHealthz != nil {
				t.Fatalf("%s related to a failed ceiling", m.Name)
			}
		}
	}
	noCeil := &Report{Sections: httpReport("").Sections[1:]}
	for i := range noCeil.Sections {
		for j := range noCeil.Sections[i].Metrics {
			noCeil.Sections[i].Metrics[j].VsHealthz = nil
		}
	}
	noCeil.relate()
	if m, _ := noCeil.Sections[0].Get("queries"); m.VsHealthz != nil {
		t.Fatal("ratio to healthz without a ceiling")
	}
}

func TestReportTableAndJSONShowHealthzRatio(t *testing.T) {
	r := httpReport("")
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	for _, want := range []string{"vs healthz", "ceiling", "40,000 /s", "0.75x", "1.50x"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var jb bytes.Buffer
	if err := r.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	m, ok := back.Sections[1].Get("queries")
	if !ok || m.VsHealthz == nil || *m.VsHealthz != 0.75 {
		t.Fatalf("JSON round trip: %+v", m)
	}
}

func TestReportTableAndJSON(t *testing.T) {
	r := sampleReport()
	var tb bytes.Buffer
	if err := r.WriteTable(&tb); err != nil {
		t.Fatal(err)
	}
	out := tb.String()
	for _, want := range []string{"ingest via nats", "(events=10)", "accepted", "20,000 /s", "0.25x", "80,000 /s", "1.00x", "send→ack p99", "2.00 ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var jb bytes.Buffer
	if err := r.WriteJSON(&jb); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	m, ok := back.Sections[1].Get("accepted")
	if !ok || m.Value != 20000 || m.Unit != PerSecond || m.VsBaseline == nil || *m.VsBaseline != 0.25 {
		t.Fatalf("JSON round trip: %+v", m)
	}
}

// Commands are single POSTs: a run asked to send them over NATS or in
// batches is refused before it starts, naming the flag; other modes take
// the same settings.
func TestConfigValidateForCommands(t *testing.T) {
	if err := DefaultConfig().ValidateFor(ModeCommands); err != nil {
		t.Fatalf("default config: %v", err)
	}
	c := DefaultConfig()
	c.Via, c.Batch = ViaNATS, 10
	err := c.ValidateFor(ModeCommands)
	for _, want := range []string{"--via nats", "--batch 10"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
	if err := c.ValidateFor(ModeIngest); err != nil {
		t.Errorf("ingest refused --via nats --batch 10: %v", err)
	}
	c = DefaultConfig()
	c.Duration = 0
	if err := c.ValidateFor(ModeCommands); err == nil || !strings.Contains(err.Error(), "--duration") {
		t.Errorf("error %v does not name --duration", err)
	}
	c = DefaultConfig()
	c.Via = ViaNATS
	if _, err := Run(context.Background(), ModeCommands, c, nil); err == nil || !strings.Contains(err.Error(), "--via nats") {
		t.Errorf("Run commands --via nats: %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes {
		if got, err := ParseMode(string(m)); err != nil || got != m {
			t.Fatalf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("soak"); err == nil {
		t.Fatal("unknown mode accepted")
	}
}

func TestViewTracksLastEventPerKey(t *testing.T) {
	v := &view{ks: newKeySet("t", 2), want: make([]uint64, 2), seen: make([]uint64, 2),
		seenAt: make([]time.Time, 2), reachedAt: make([]time.Time, 2), events: make([]int, 2), waiters: map[int][]waiter{}}
	t0 := time.Now()
	v.track(ack{ev: event{key: 0}, seq: 5, pubAt: t0, ackAt: t0.Add(ms(1))}, true)
	v.track(ack{ev: event{key: 0}, seq: 9, pubAt: t0, ackAt: t0.Add(ms(2))}, true)
	v.track(ack{ev: event{key: 1}, seq: 7, pubAt: t0, ackAt: t0.Add(ms(1))}, true)
	if v.behind() != 2 {
		t.Fatalf("behind %d, want 2", v.behind())
	}
	v.observe(0, 5, t0.Add(ms(4)), t0.Add(ms(3))) // reflects the first event only
	v.observe(1, 7, t0.Add(ms(5)), t0.Add(ms(4)))
	if v.behind() != 1 {
		t.Fatalf("behind %d, want 1", v.behind())
	}
	v.observe(0, 8, t0.Add(ms(6)), t0.Add(ms(6))) // another client's event: not enough
	v.observe(0, 9, t0.Add(ms(10)), t0.Add(ms(9)))
	if v.behind() != 0 || !v.caughtUp().Equal(t0.Add(ms(10))) {
		t.Fatalf("behind %d, caught up at %v", v.behind(), v.caughtUp().Sub(t0))
	}
	s := v.ackVisible.summary()
	if s.Count != 3 || s.Max != ms(8) || s.P50 != ms(4) {
		t.Fatalf("ack→visible %+v", s)
	}
	// An ack read after its value was shown counts as visible at once.
	v.track(ack{ev: event{key: 1}, seq: 6, pubAt: t0, ackAt: t0.Add(ms(20))}, true)
	if v.behind() != 0 || v.ackVisible.summary().Count != 4 {
		t.Fatal("late ack of a shown event")
	}
	if h := v.hottest(); h != 0.5 {
		t.Fatalf("hottest share %v, want 0.5", h)
	}
}
