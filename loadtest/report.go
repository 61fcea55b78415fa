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
// when the run measured a baseline.
type Metric struct {
	Name       string   `json:"name"`
	Value      float64  `json:"value"`
	Unit       Unit     `json:"unit"`
	VsBaseline *float64 `json:"vsBaseline,omitempty"`
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

func (s *Section) latency(name string, l Summary, withP95 bool) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s.add(name+" p50", ms(l.P50), Millis)
	if withP95 {
		s.add(name+" p95", ms(l.P95), Millis)
	}
	s.add(name+" p99", ms(l.P99), Millis)
	s.add(name+" max", ms(l.Max), Millis)
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

// Baseline metric names, the references of VsBaseline.
const (
	baselineRate = "publish rate"
	baselineRTT  = "publish round trip p50"
)

// relate fills VsBaseline from the report's baseline section, if any.
func (r *Report) relate() {
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
		fmt.Fprintf(tw, "  metric\tvalue\tvs baseline\n")
		for _, m := range s.Metrics {
			vs := "-"
			if m.VsBaseline != nil {
				vs = strconv.FormatFloat(*m.VsBaseline, 'f', 2, 64) + "x"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", m.Name, formatValue(m.Value, m.Unit), vs)
		}
	}
	return tw.Flush()
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
