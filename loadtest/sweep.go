package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// SweepStep is one catalogue size of ModeSweep: Events events over Keys
// distinct keys, uniform (Skew 0) or Zipf-distributed.
type SweepStep struct {
	Keys int
	Skew float64
	// Events is the step's event count; 0 means max(Config.Events, Keys).
	Events int
}

// DefaultSweepSkew is the Zipf exponent of a step written "zipf".
const DefaultSweepSkew = 1.1

// DefaultSweep is the sweep of issue 15.4: a thousand, a hundred thousand
// and a million distinct keys, each uniform and skewed.
const DefaultSweep = "1k:uniform,1k:zipf,100k:uniform,100k:zipf,1m:uniform,1m:zipf"

// events is the step's event count under cfg.
func (s SweepStep) events(cfg Config) int {
	if s.Events > 0 {
		return s.Events
	}
	return max(cfg.Events, s.Keys)
}

// String writes the step as ParseSweep reads it.
func (s SweepStep) String() string {
	out := countString(s.Keys) + ":" + distString(s.Skew)
	if s.Events > 0 {
		out += ":" + countString(s.Events)
	}
	return out
}

func distString(skew float64) string {
	switch skew {
	case 0:
		return "uniform"
	case DefaultSweepSkew:
		return "zipf"
	}
	return "zipf=" + strconv.FormatFloat(skew, 'g', -1, 64)
}

// countString writes n with a k or m suffix when it is a round thousand
// or million.
func countString(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "m"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// ParseSweep reads a comma-separated list of steps, each
// KEYS[:DIST[:EVENTS]]: counts as 1000, 1k or 1m; DIST uniform (the
// default), zipf (exponent DefaultSweepSkew) or zipf=S with S > 1.
func ParseSweep(s string) ([]SweepStep, error) {
	var steps []SweepStep
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, ":")
		if len(parts) > 3 {
			return nil, fmt.Errorf("sweep step %q: want KEYS[:DIST[:EVENTS]]", item)
		}
		var st SweepStep
		var err error
		if st.Keys, err = parseCount(parts[0]); err != nil {
			return nil, fmt.Errorf("sweep step %q: keys: %w", item, err)
		}
		if len(parts) > 1 {
			if st.Skew, err = parseDist(parts[1]); err != nil {
				return nil, fmt.Errorf("sweep step %q: %w", item, err)
			}
		}
		if len(parts) > 2 {
			if st.Events, err = parseCount(parts[2]); err != nil {
				return nil, fmt.Errorf("sweep step %q: events: %w", item, err)
			}
		}
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return nil, errors.New("sweep: no steps")
	}
	return steps, nil
}

// parseCount reads 1000, 1k or 1m (case-insensitive).
func parseCount(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(strings.ToLower(s), "k"):
		mult, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(strings.ToLower(s), "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive count", s)
	}
	return n * mult, nil
}

func parseDist(s string) (float64, error) {
	switch {
	case s == "" || s == "uniform":
		return 0, nil
	case s == "zipf":
		return DefaultSweepSkew, nil
	case strings.HasPrefix(s, "zipf="):
		v, err := strconv.ParseFloat(strings.TrimPrefix(s, "zipf="), 64)
		if err != nil || v <= 1 {
			return 0, fmt.Errorf("distribution %q: a Zipf exponent must be a number > 1", s)
		}
		return v, nil
	}
	return 0, fmt.Errorf("distribution %q: want uniform, zipf or zipf=S", s)
}

// Names of the memory figures of a sweep step.
const (
	rssBefore = "RSS before"
	rssAfter  = "RSS after"
	rssPeak   = "RSS peak (VmHWM)"
	// cpuPerEvent is the server's user+system CPU over the step divided by
	// its events: it moves much less with a shared machine's load than
	// events/s do.
	cpuPerEvent = "server CPU per event (user+sys)"
)

// sweepStep ingests one step's events over NATS as JSON, as ingest does
// (its completion signal: every key's view shows its last event), on keys
// of their own (prefix "<prefix>-s<i>", so every step writes new keys
// even on a server that ran the previous ones), and reads the server's
// memory before and after. ModeSweep's baseline, measured first in the
// same run, relates its applied rate to the raw publish rate.
func (t *target) sweepStep(ctx context.Context, cfg Config, i int, st SweepStep, progress io.Writer) (Section, error) {
	c := cfg
	c.Keys, c.Skew, c.Events, c.Sequential = st.Keys, st.Skew, st.events(cfg), false
	c.Prefix = fmt.Sprintf("%s-s%d", cfg.Prefix, i)
	mem := memorySource(cfg)
	before, berr := t.readMemory(ctx, mem)
	cpu0, cerr := readProcCPU(cfg.PID)
	sec, err := t.ingest(ctx, c, ViaNATS, progress)
	sec.Mode = ModeSweep
	sec.Settings = fmt.Sprintf("step=%s memory=%s; %s", st, mem, sec.Settings)
	if err != nil {
		return sec, err
	}
	after, aerr := t.readMemory(ctx, mem)
	if err := errors.Join(berr, aerr); err != nil {
		return sec, fmt.Errorf("loadtest: server memory: %w", err)
	}
	if cfg.PID > 0 && cerr == nil {
		if cpu1, err := readProcCPU(cfg.PID); err == nil && c.Events > 0 {
			sec.add(cpuPerEvent, (cpu1-cpu0).Seconds()*1e3/float64(c.Events), Millis)
		}
	}
	sec.add(rssBefore, float64(before.rss), Bytes)
	sec.add(rssAfter, float64(after.rss), Bytes)
	if after.hwm > 0 {
		sec.add(rssPeak, float64(after.hwm), Bytes)
	}
	return sec, nil
}

// memory is a server's resident set: now, and its peak where known.
type memory struct{ rss, hwm uint64 }

// memSource is where the server's memory is read: /proc/<pid>/status
// when the tool was given the server's pid, else its /metrics.
type memSource struct {
	pid     int
	metrics string // URL of /metrics
}

func memorySource(cfg Config) memSource {
	if cfg.PID > 0 {
		return memSource{pid: cfg.PID}
	}
	return memSource{metrics: strings.TrimSuffix(cfg.HTTPURL, "/") + "/metrics"}
}

func (m memSource) String() string {
	if m.pid > 0 {
		return fmt.Sprintf("/proc/%d/status", m.pid)
	}
	return m.metrics
}

func (t *target) readMemory(ctx context.Context, src memSource) (memory, error) {
	if src.pid > 0 {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", src.pid))
		if err != nil {
			return memory{}, err
		}
		defer f.Close()
		return parseProcStatus(f)
	}
	body, err := t.http.metrics(ctx)
	if err != nil {
		return memory{}, err
	}
	defer body.Close()
	rss, err := parseMetric(body, "process_resident_memory_bytes")
	return memory{rss: rss}, err
}

// readProcCPU is the user+system CPU process pid has used so far, from
// /proc/<pid>/stat; pid 0 reads nothing.
func readProcCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStat(string(b), clockTicks)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// parseProcStat reads utime+stime (fields 14 and 15) from a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses
// and may hold spaces, so fields are counted after its closing one.
func parseProcStat(line string, hz int) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("loadtest: /proc stat: no command name")
	}
	f := strings.Fields(line[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("loadtest: /proc stat: %d fields", len(f)+2)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: /proc stat: %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / time.Duration(hz), nil
}

// parseProcStatus reads VmRSS and VmHWM (kB) from /proc/<pid>/status.
func parseProcStatus(r io.Reader) (memory, error) {
	var m memory
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		var dst *uint64
		switch f[0] {
		case "VmRSS:":
			dst = &m.rss
		case "VmHWM:":
			dst = &m.hwm
		default:
			continue
		}
		kb, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s %q: %w", f[0], f[1], err)
		}
		*dst = kb * 1024
	}
	if err := sc.Err(); err != nil {
		return memory{}, err
	}
	if m.rss == 0 {
		return memory{}, errors.New("no VmRSS in the process status")
	}
	return m, nil
}

// parseMetric reads the value of an unlabelled gauge of bytes from the
// Prometheus text format.
func parseMetric(r io.Reader, name string) (uint64, error) {
	g, err := parseGauges(r, name)
	if err != nil {
		return 0, err
	}
	if v := g[name]; v >= 0 {
		return uint64(v), nil
	}
	return 0, fmt.Errorf("loadtest: /metrics %s %v: not a byte count", name, g[name])
}
