package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Unit says what a metric's value is.
type Unit string

// The units of metrics.
const (
	PerSecond Unit = "/s"
	Millis    Unit = "ms"
	Seconds   Unit = "s"
	Count     Unit = "count"
	Bytes     Unit = "bytes"
	Ratio     Unit = "ratio"
)

// Metric is one figure. VsBaseline divides a rate by the baseline's raw
// publish rate, and a latency by the baseline's publish round trip p50,
// when the run measured a baseline. VsHealthz divides an HTTP figure by the
// same figure of GET /healthz in the run's ceiling section (a rate by its
// rate, a p99 by its p99), when the run measured one.
type Metric struct {
	Name       string   `json:"name"`
	Value      float64  `json:"value"`
	Unit       Unit     `json:"unit"`
	VsBaseline *float64 `json:"vsBaseline,omitempty"`
	VsHealthz  *float64 `json:"vsHealthz,omitempty"`
	// overHTTP marks a figure of HTTP requests, the ones VsHealthz relates.
	overHTTP bool
}

// Section is the result of one step of a run.
type Section struct {
	Mode     Mode     `json:"mode"`
	Via      Via      `json:"via,omitempty"`
	Settings string   `json:"settings"`
	Metrics  []Metric `json:"metrics"`
	Error    string   `json:"error,omitempty"`
}

func (s *Section) rate(name string, v float64) { s.add(name, v, PerSecond) }
func (s *Section) count(name string, v int)    { s.add(name, float64(v), Count) }
func (s *Section) add(name string, v float64, u Unit) {
	s.Metrics = append(s.Metrics, Metric{Name: name, Value: v, Unit: u})
}

// httpRate is a rate of HTTP requests, related to the ceiling.
func (s *Section) httpRate(name string, v float64) {
	s.add(name, v, PerSecond)
	s.Metrics[len(s.Metrics)-1].overHTTP = true
}

func (s *Section) latency(name string, l Summary, withP95 bool) {
	s.latencyOf(name, l, withP95, false)
}

// httpLatency is the latency of HTTP requests, related to the ceiling's.
func (s *Section) httpLatency(name string, l Summary, withP95 bool) {
	s.latencyOf(name, l, withP95, true)
}

func (s *Section) latencyOf(name string, l Summary, withP95, overHTTP bool) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	add := func(q string, d time.Duration) {
		s.add(name+" "+q, ms(d), Millis)
		s.Metrics[len(s.Metrics)-1].overHTTP = overHTTP
	}
	add("p50", l.P50)
	if withP95 {
		add("p95", l.P95)
	}
	add("p99", l.P99)
	add("max", l.Max)
}

// Get finds a metric by name.
func (s Section) Get(name string) (Metric, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}

// Report is the outcome of a run.
type Report struct {
	Mode       Mode      `json:"mode"`
	Started    time.Time `json:"started"`
	HTTP       string    `json:"http"`
	NATS       string    `json:"nats"`
	Partitions int       `json:"partitions"`
	Sections   []Section `json:"sections"`
}

// Baseline metric names, the references of VsBaseline, and the ceiling's,
// the references of VsHealthz.
const (
	baselineRate   = "publish rate"
	baselineRTT    = "publish round trip p50"
	ceilingRate    = "healthz"
	ceilingLatency = "healthz"
)

// relate fills VsBaseline and VsHealthz from the report's reference
// sections, if any.
func (r *Report) relate() {
	r.relateBaseline()
	r.relateCeiling()
}

// relateCeiling divides every HTTP rate by the ceiling's rate of
// GET /healthz, and every HTTP latency quantile by the ceiling's same
// quantile (p99 by p99), so "GET ≥ 0.8 × healthz, p99 within 2 ×" reads
// straight off the report.
func (r *Report) relateCeiling() {
	var ceil Section
	found := false
	for _, s := range r.Sections {
		if s.Mode == ModeCeiling && s.Error == "" {
			ceil, found = s, true
		}
	}
	if !found {
		return
	}
	for i := range r.Sections {
		for j := range r.Sections[i].Metrics {
			m := &r.Sections[i].Metrics[j]
			if !m.overHTTP {
				continue
			}
			var ref Metric
			var ok bool
			switch m.Unit {
			case PerSecond:
				ref, ok = ceil.Get(ceilingRate)
			case Millis:
				ref, ok = ceil.Get(ceilingLatency + " " + quantile(m.Name))
			}
			if ok && ref.Value > 0 {
				v := m.Value / ref.Value
				m.VsHealthz = &v
			}
		}
	}
}

// quantile is the last word of a latency's name: p50, p99, max.
func quantile(name string) string {
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		return name[i+1:]
	}
	return name
}

// relateBaseline fills VsBaseline from the report's baseline section.
func (r *Report) relateBaseline() {
	var base Section
	found := false
	for _, s := range r.Sections {
		if s.Mode == ModeBaseline && s.Error == "" {
			base, found = s, true
		}
	}
	if !found {
		return
	}
	pub, okRate := base.Get(baselineRate)
	rtt, okRTT := base.Get(baselineRTT)
	for i := range r.Sections {
		for j := range r.Sections[i].Metrics {
			m := &r.Sections[i].Metrics[j]
			var ref float64
			switch {
			case m.Unit == PerSecond && okRate:
				ref = pub.Value
			case m.Unit == Millis && okRTT:
				ref = rtt.Value
			default:
				continue
			}
			if ref > 0 {
				v := m.Value / ref
				m.VsBaseline = &v
			}
		}
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the summary table: one block per section.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "inventory load: %s against %s and %s (%d partitions)\n", r.Mode, r.HTTP, r.NATS, r.Partitions)
	for _, s := range r.Sections {
		title := string(s.Mode)
		if s.Via != "" {
			title += " via " + string(s.Via)
		}
		fmt.Fprintf(tw, "\n%s\t(%s)\n", title, s.Settings)
		if s.Error != "" {
			fmt.Fprintf(tw, "  ERROR\t%s\n", s.Error)
		}
		fmt.Fprintf(tw, "  metric\tvalue\tvs baseline\tvs healthz\n")
		for _, m := range s.Metrics {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", m.Name, formatValue(m.Value, m.Unit), times(m.VsBaseline), times(m.VsHealthz))
		}
	}
	return tw.Flush()
}

// times renders a ratio as "0.42x", or "-" when there is none.
func times(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + "x"
}

// formatValue renders a value with its unit for people.
func formatValue(v float64, u Unit) string {
	switch u {
	case PerSecond:
		return thousands(int64(v+0.5)) + " /s"
	case Millis:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	case Seconds:
		return strconv.FormatFloat(v, 'f', 2, 64) + " s"
	case Count:
		return thousands(int64(v))
	case Bytes:
		return thousands(int64(v)) + " B"
	case Ratio:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + " %"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// thousands writes n with a comma every three digits: 12,345,678.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
