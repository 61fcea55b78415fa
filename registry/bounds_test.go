package registry

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/internal/hostile"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/wire"
)

// The inventory's event subjects refuse writer schemas its decoders could
// not read within bounds (issue 9: a recursive field crashed every
// calculator, a zero-width array hung one, a record tree ate memory),
// with Confluent's 422 / 42201 naming the problem, over the Store and
// over HTTP. Other subjects take them, as Confluent's registry does.
func TestEventSubjectsRefuseSchemasOutOfBounds(t *testing.T) {
	ctx := testContext(t)
	store := newStore(t, natstest.Start(t))
	e := echo.New()
	NewHandler(store, nil).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	base := wire.Schemas()[wire.SubjectAdjustments]
	if _, err := store.Register(ctx, wire.SubjectAdjustments, base); err != nil {
		t.Fatal(err)
	}
	for _, a := range hostile.Attacks() {
		t.Run(a.Name, func(t *testing.T) {
			schema, err := a.Schema(base)
			if err != nil {
				t.Fatal(err)
			}
			_, err = store.Register(ctx, wire.SubjectAdjustments, schema)
			if a.InBounds {
				if err != nil {
					t.Fatalf("register a schema within bounds: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSchema) || !errors.Is(err, wire.ErrSchemaBounds) || !strings.Contains(err.Error(), a.Problem) {
				t.Fatalf("Register = %v, want ErrInvalidSchema naming %q", err, a.Problem)
			}
			if err := store.CheckCompatibility(ctx, wire.SubjectAdjustments, schema, 0); !errors.Is(err, ErrInvalidSchema) {
				t.Fatalf("CheckCompatibility = %v, want ErrInvalidSchema", err)
			}
			for _, subject := range []string{wire.SubjectReservations, wire.SubjectHolds} {
				if _, err := store.Register(ctx, subject, schema); !errors.Is(err, wire.ErrSchemaBounds) {
					t.Fatalf("Register under %s = %v, want ErrSchemaBounds", subject, err)
				}
			}

			body, _ := json.Marshal(map[string]string{"schema": schema})
			resp, err := http.Post(srv.URL+"/subjects/"+wire.SubjectAdjustments+"/versions",
				"application/vnd.schemaregistry.v1+json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got errorResponse
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnprocessableEntity || got.ErrorCode != codeInvalidSchema || !strings.Contains(got.Message, a.Problem) {
				t.Fatalf("POST = %d %+v, want 422 error_code %d naming %q", resp.StatusCode, got, codeInvalidSchema, a.Problem)
			}

			if _, err := store.Register(ctx, "elsewhere."+a.Name+"-value", schema); err != nil {
				t.Fatalf("register under another subject: %v", err)
			}
		})
	}
	if v, err := store.Versions(ctx, wire.SubjectAdjustments); err != nil || len(v) != 2 {
		t.Fatalf("versions = %v, %v; want the base and the one schema within bounds", v, err)
	}
}
