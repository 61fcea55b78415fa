package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// dashboards is where compose mounts the Grafana dashboards from.
const dashboards = "../deploy/grafana/dashboards"

// TestDashboardsNameExportedMetrics loads every provisioned dashboard and
// checks that each PromQL query in it names only series we export, so a
// renamed or removed metric cannot leave a panel silently empty.
func TestDashboardsNameExportedMetrics(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(dashboards, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no dashboards under %s", dashboards)
	}
	series := exportedSeries(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exprs, err := dashboardExprs(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// A dashboard with no queries would pass vacuously.
		if len(exprs) < 10 {
			t.Fatalf("%s: only %d queries found", f, len(exprs))
		}
		for _, e := range exprs {
			if err := checkExpr(e, series); err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
			}
		}
	}
}

// TestDashboardCheckRejectsUnknownNames proves the check above can fail:
// a misspelt metric, a metric we never export, a histogram suffix on a
// counter and an unknown function are each refused.
func TestDashboardCheckRejectsUnknownNames(t *testing.T) {
	series := exportedSeries(t)
	good := `histogram_quantile(0.99, sum by (le, route) (rate(inventory_http_request_seconds_bucket{status=~"5..", route!="/metrics"}[5m]))) > 1e-3`
	if err := checkExpr(good, series); err != nil {
		t.Fatalf("good query refused: %v", err)
	}
	for _, bad := range []string{
		`rate(inventory_events_aplied_total[1m])`,
		`inventory_projection_lag_events`,
		`sum(rate(inventory_events_applied_total_bucket[1m]))`,
		`rat(inventory_events_applied_total[1m])`,
		`inventory_partition_lag_events / on (partition) inventory_nope`,
	} {
		if err := checkExpr(bad, series); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	dash := []byte(`{"panels":[{"type":"row","panels":[{"targets":[{"expr":"inventory_missing_total"}]}]}]}`)
	exprs, err := dashboardExprs(dash)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exprs, []string{"inventory_missing_total"}) {
		t.Fatalf("exprs of a collapsed row: %q", exprs)
	}
}

// exportedSeries is every series name a scrape of our programs can carry:
// the collectors this package registered (their names from their Desc,
// children or not), with _bucket/_sum/_count for histograms and
// _sum/_count for summaries, plus whatever else the default registry
// gathers (the Go and process collectors, anything registered elsewhere).
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	add := func(name string, histogram, summary bool) {
		out[name] = true
		if histogram {
			out[name+"_bucket"] = true
		}
		if histogram || summary {
			out[name+"_sum"] = true
			out[name+"_count"] = true
		}
	}
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	if len(registered.collectors) == 0 {
		t.Fatal("the metrics package registered no collectors")
	}
	for _, c := range registered.collectors {
		var histogram, summary bool
		switch c.(type) {
		case prometheus.Histogram, *prometheus.HistogramVec:
			histogram = true
		case prometheus.Summary, *prometheus.SummaryVec:
			summary = true
		}
		ch := make(chan *prometheus.Desc, 16)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			m := fq.FindStringSubmatch(d.String())
			if m == nil {
				t.Fatalf("no name in %s", d)
			}
			add(m[1], histogram, summary)
		}
	}
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		typ := f.GetType().String()
		add(f.GetName(), typ == "HISTOGRAM" || typ == "GAUGE_HISTOGRAM", typ == "SUMMARY")
	}
	return out
}

// dashboardExprs is every "expr" in a dashboard, at any depth: panels,
// panels inside collapsed rows, library panels.
func dashboardExprs(b []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					out = append(out, s)
					continue
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return out, nil
}

// promqlFuncs are the functions and aggregations a dashboard may call; a
// name followed by "(" outside this set is refused like an unknown metric.
var promqlFuncs = map[string]bool{
	"abs": true, "absent": true, "avg": true, "avg_over_time": true, "bottomk": true,
	"ceil": true, "changes": true, "clamp_max": true, "clamp_min": true, "count": true,
	"count_over_time": true, "delta": true, "deriv": true, "floor": true, "group": true,
	"histogram_quantile": true, "idelta": true, "increase": true, "irate": true,
	"label_replace": true, "max": true, "max_over_time": true, "min": true,
	"min_over_time": true, "quantile": true, "rate": true, "resets": true, "round": true,
	"scalar": true, "sort": true, "sort_desc": true, "stddev": true, "sum": true,
	"sum_over_time": true, "time": true, "topk": true, "vector": true,
}

// promqlWords are the binary operators and modifiers spelt as words.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"inf": true, "nan": true,
}

var (
	promqlString   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promqlRange    = regexp.MustCompile(`\[[^\[\]]*\]`)
	// The label lists of by, without, on, ignoring and group_left/right
	// name labels, not metrics.
	promqlGrouping = regexp.MustCompile(`(?i)\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlToken    = regexp.MustCompile(`[0-9][0-9A-Za-z_.]*|\.[0-9][0-9A-Za-z_.]*|[A-Za-z_:][A-Za-z0-9_:]*`)
)

// checkExpr refuses a PromQL expression that names a series not in
// series or calls a function not in promqlFuncs. It is a small lexer, not
// a parser: strings, label matchers, ranges and grouping label lists are
// cut out first, so every identifier left is a function, a keyword or a
// metric name.
func checkExpr(expr string, series map[string]bool) error {
	s := promqlString.ReplaceAllString(expr, `""`)
	s = promqlMatchers.ReplaceAllString(s, " ")
	s = promqlRange.ReplaceAllString(s, " ")
	s = promqlGrouping.ReplaceAllString(s, " ")
	var bad []string
	for _, loc := range promqlToken.FindAllStringIndex(s, -1) {
		tok := s[loc[0]:loc[1]]
		if tok[0] == '.' || tok[0] >= '0' && tok[0] <= '9' {
			continue // a number or a duration
		}
		if strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") {
			if !promqlFuncs[strings.ToLower(tok)] {
				bad = append(bad, "function "+tok)
			}
			continue
		}
		if promqlWords[strings.ToLower(tok)] {
			continue
		}
		if !series[tok] {
			bad = append(bad, "metric "+tok)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%s: not exported: %s", expr, strings.Join(bad, ", "))
	}
	return nil
}

// TestDashboardsUseProvisionedDatasource checks every panel and query of
// a dashboard points at the datasource compose provisions, by its uid: a
// panel on another uid shows "datasource not found" instead of data.
func TestDashboardsUseProvisionedDatasource(t *testing.T) {
	const uid = "prometheus"
	prov, err := os.ReadFile("../deploy/grafana/provisioning/datasources/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s+uid:\s*` + uid + `\s*$`).Match(prov) {
		t.Fatalf("the provisioned datasource has no uid %q", uid)
	}
	files, err := filepath.Glob(filepath.Join(dashboards, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case map[string]any:
				if ds, ok := v["datasource"].(map[string]any); ok && ds["uid"] != uid {
					t.Errorf("%s: datasource %v, want uid %q", filepath.Base(f), ds, uid)
				}
				for _, x := range v {
					walk(x)
				}
			case []any:
				for _, x := range v {
					walk(x)
				}
			}
		}
		walk(v)
	}
}
