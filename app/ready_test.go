package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/registry"
)

func get(t *testing.T, e *echo.Echo, path string) (int, map[string]any) {
	t.Helper()
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// The README promises /healthz and /readyz on every service: the
// standalone registry answers both, ready once its bucket answers.
func TestRegistryServesHealthAndReadiness(t *testing.T) {
	s := natstest.Start(t)
	store, err := registry.NewStore(context.Background(), s.JS, registry.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	e := app.RegistryAPI(store, s.NC, quiet)
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, out := get(t, e, path); status != http.StatusOK {
			t.Errorf("GET %s: %d %v", path, status, out)
		}
	}
	if status, _ := get(t, e, "/subjects"); status != http.StatusOK {
		t.Errorf("GET /subjects: %d", status)
	}
}

// The all-in-one's Scylla listener (and sellable-service) answers
// /readyz, and says the database is what it waits for.
func TestProjectionAPIServesReadiness(t *testing.T) {
	s := natstest.Start(t)
	cfg := projection.DefaultConfig()
	cfg.Hosts = []string{"127.0.0.1:1"} // never dialled: Run is not started
	svc, err := projection.New(s.JS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := app.ProjectionAPI(svc, s.NC, query.NewEventLog(s.JS, nil), quiet)
	if status, out := get(t, e, "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz: %d %v", status, out)
	}
	status, out := get(t, e, "/readyz")
	failed, _ := out["failed"].(map[string]any)
	if status != http.StatusServiceUnavailable || failed["scylla"] == nil || failed["nats"] != nil {
		t.Fatalf("GET /readyz before the database is up: %d %v", status, out)
	}
}
