package loadtest

import (
	"strings"
	"testing"
	"time"
)

func TestParseSweep(t *testing.T) {
	steps, err := ParseSweep(" 1k:uniform, 100K:zipf,1m, 200:zipf=1.5:2k,5:uniform:10 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []SweepStep{
		{Keys: 1000}, {Keys: 100_000, Skew: DefaultSweepSkew}, {Keys: 1_000_000},
		{Keys: 200, Skew: 1.5, Events: 2000}, {Keys: 5, Events: 10},
	}
	if len(steps) != len(want) {
		t.Fatalf("steps %+v, want %+v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("step %d: %+v, want %+v", i, steps[i], want[i])
		}
	}
	// String writes what ParseSweep reads.
	var names []string
	for _, st := range steps {
		names = append(names, st.String())
	}
	if got := strings.Join(names, ","); got != "1k:uniform,100k:zipf,1m:uniform,200:zipf=1.5:2k,5:uniform:10" {
		t.Fatalf("written back as %q", got)
	}
	def, err := ParseSweep(DefaultSweep)
	if err != nil || len(def) != 6 || def[4] != (SweepStep{Keys: 1_000_000}) {
		t.Fatalf("default sweep %+v, %v", def, err)
	}
	for _, bad := range []string{"", ",", "0", "x", "1k:pareto", "1k:zipf=1", "1k:zipf=x", "1k:uniform:0", "1k:uniform:1:2", "-5"} {
		if _, err := ParseSweep(bad); err == nil {
			t.Errorf("ParseSweep(%q) accepted", bad)
		}
	}
}

// A step without its own event count writes the run's --events, but at
// least one event per key.
func TestSweepStepEvents(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Events = 200_000
	for _, c := range []struct {
		st   SweepStep
		want int
	}{
		{SweepStep{Keys: 1000}, 200_000},
		{SweepStep{Keys: 1_000_000}, 1_000_000},
		{SweepStep{Keys: 1_000_000, Events: 10}, 10},
	} {
		if got := c.st.events(cfg); got != c.want {
			t.Errorf("%s: %d events, want %d", c.st, got, c.want)
		}
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tinventory\nVmPeak:\t 2000000 kB\nVmHWM:\t  1900000 kB\nVmRSS:\t  1850000 kB\nThreads:\t12\n"
	m, err := parseProcStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	if m.rss != 1_850_000*1024 || m.hwm != 1_900_000*1024 {
		t.Fatalf("read %+v", m)
	}
	if _, err := parseProcStatus(strings.NewReader("Name:\tx\n")); err == nil {
		t.Fatal("a status without VmRSS read")
	}
	if _, err := parseProcStatus(strings.NewReader("VmRSS:\tlots kB\n")); err == nil {
		t.Fatal("a VmRSS that is no number read")
	}
}

func TestParseMetric(t *testing.T) {
	text := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.234567168e+09
process_resident_memory_bytes_other 5
inventory_kv_writer_cache_keys{partition="0"} 3
`
	v, err := parseMetric(strings.NewReader(text), "process_resident_memory_bytes")
	if err != nil || v != 1_234_567_168 {
		t.Fatalf("read %d, %v", v, err)
	}
	if _, err := parseMetric(strings.NewReader(text), "go_memstats_heap_inuse_bytes"); err == nil {
		t.Fatal("a metric that is not there read")
	}
}

// utime and stime are fields 14 and 15, counted after a command name
// that may hold spaces and parentheses.
func TestParseProcStat(t *testing.T) {
	line := "4242 (inv (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 12 0 100 1000000 5000 18446744073709551615\n"
	got, err := parseProcStat(line, 100)
	if err != nil || got != 3800*time.Millisecond {
		t.Fatalf("got %v, %v; want 3.8s (250+130 ticks at 100 Hz)", got, err)
	}
	for _, bad := range []string{"", "4242 inv S 1", "4242 (inv) S 1 2 3", "4242 (inv) S 1 4242 4242 0 -1 4194560 100 0 0 0 x 130"} {
		if _, err := parseProcStat(bad, 100); err == nil {
			t.Errorf("parseProcStat(%q) accepted", bad)
		}
	}
}
