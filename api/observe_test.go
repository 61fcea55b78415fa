package api_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/sellable"
)

// requests is how many requests the latency histogram has counted for
// method, route and status, from the default registry as /metrics
// serves it.
func requests(t *testing.T, method, route, status string) uint64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"method": method, "route": route, "status": status}
	for _, f := range families {
		if f.GetName() != "inventory_http_request_seconds" {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m.GetHistogram().GetSampleCount()
		}
	}
	return 0
}

// TestObserveLogsAndCountsEachRequest: every request is counted in
// inventory_http_request_seconds under its route and the status it was
// answered (also for an error a handler returned), and logged at debug
// level with the same status; at info level nothing is logged.
func TestObserveLogsAndCountsEachRequest(t *testing.T) {
	for _, debug := range []bool{true, false} {
		logs := logtest.New()
		log := logs.Logger()
		if !debug {
			log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		}
		e := api.NewServer(log)
		e.POST("/test/observe/:id", func(echo.Context) error {
			return &sellable.FieldError{Field: "sku", Err: errors.New("is required")}
		})
		before := map[string]uint64{
			"400": requests(t, http.MethodPost, "/test/observe/:id", "400"),
			"200": requests(t, http.MethodGet, "/healthz", "200"),
		}
		for _, r := range []*http.Request{
			httptest.NewRequest(http.MethodPost, "/test/observe/42?x=1", strings.NewReader("{}")),
			httptest.NewRequest(http.MethodGet, "/healthz", nil),
		} {
			e.ServeHTTP(httptest.NewRecorder(), r)
		}
		if got := requests(t, http.MethodPost, "/test/observe/:id", "400") - before["400"]; got != 1 {
			t.Errorf("debug %v: %d requests counted as POST /test/observe/:id 400, want 1", debug, got)
		}
		if got := requests(t, http.MethodGet, "/healthz", "200") - before["200"]; got != 1 {
			t.Errorf("debug %v: %d requests counted as GET /healthz 200, want 1", debug, got)
		}
		out := logs.String()
		for _, want := range []string{
			`msg=http method=POST uri="/test/observe/42?x=1" status=400 latency=`,
			`msg=http method=GET uri=/healthz status=200 latency=`,
		} {
			if strings.Contains(out, want) != debug {
				t.Errorf("debug %v: log has %q: %v\n%s", debug, want, !debug, out)
			}
		}
	}
}
