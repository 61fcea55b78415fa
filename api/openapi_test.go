package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/query"
	"github.com/sellable/inventory/registry"
)

// loadSpec parses and validates the embedded document.
func loadSpec(t *testing.T, data []byte) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return doc
}

func TestSpecIsValidOpenAPI(t *testing.T) {
	loadSpec(t, api.Spec)
	js, err := api.SpecJSON()
	if err != nil {
		t.Fatal(err)
	}
	loadSpec(t, js)
}

// programServers builds each program's HTTP server as its main does,
// over nil dependencies: registering routes touches none of them. When
// a main composes routes differently, change it here too.
func programServers() map[string]*echo.Echo {
	log := slog.New(slog.DiscardHandler)
	pipeline := func() *echo.Echo {
		e := api.NewServer(log)
		(&app.Pipeline{}).Register(e, nil, nil)
		return e
	}
	allInOne := pipeline()
	app.RegisterCommands(allInOne, nil, app.Topology{}, app.Wire{})
	app.RegisterCounts(allInOne, nil, app.Topology{})
	app.RegisterReservations(allInOne, nil)
	registry.NewHandler(nil, log).Register(allInOne)

	mutator := api.NewServer(log)
	app.RegisterCommands(mutator, nil, app.Topology{}, app.Wire{})
	app.RegisterCounts(mutator, nil, app.Topology{})
	app.RegisterReservations(mutator, nil)
	api.RegisterReady(mutator, map[string]api.Check{})

	sellable := app.ProjectionAPI(&projection.Service{}, nil, query.NewEventLog(nil, nil), log)
	if err := app.RegisterLive(sellable, nil, log); err != nil {
		panic(err)
	}

	return map[string]*echo.Echo{
		"inventory":        allInOne,
		"calculator":       pipeline(),
		"mutator":          mutator,
		"sellable-service": sellable,
		"schema-registry":  app.RegistryAPI(nil, nil, log),
	}
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// TestSpecDescribesEveryRoute fails when a program registers a route the
// document lacks, or the document describes one no program serves.
func TestSpecDescribesEveryRoute(t *testing.T) {
	doc := loadSpec(t, api.Spec)
	served := map[string]bool{}
	for name, e := range programServers() {
		for _, r := range e.Routes() {
			path := echoParam.ReplaceAllString(r.Path, "{$1}")
			served[r.Method+" "+path] = true
			item := doc.Paths.Value(path)
			if item == nil || item.GetOperation(r.Method) == nil {
				t.Errorf("%s serves %s %s, which api/openapi.yaml does not describe", name, r.Method, path)
			}
		}
	}
	var missing []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				missing = append(missing, method+" "+path)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("api/openapi.yaml describes %s, which no program serves", m)
	}
}

// TestRoutesComeFromGeneratedCode fails when a program registers a route
// by hand: its handler must be the generated wrapper of its operation's
// tag (api/gen/<tag>), so the route and its parameters come from the
// document.
func TestRoutesComeFromGeneratedCode(t *testing.T) {
	doc := loadSpec(t, api.Spec)
	for name, e := range programServers() {
		for _, r := range e.Routes() {
			path := echoParam.ReplaceAllString(r.Path, "{$1}")
			item := doc.Paths.Value(path)
			if item == nil || item.GetOperation(r.Method) == nil {
				continue // TestSpecDescribesEveryRoute reports it
			}
			op := item.GetOperation(r.Method)
			if len(op.Tags) != 1 {
				continue // TestEveryTagIsGenerated reports a missing tag
			}
			want := "github.com/sellable/inventory/api/gen/" + op.Tags[0] + ".(*ServerInterfaceWrapper)."
			if !strings.HasPrefix(r.Name, want) {
				t.Errorf("%s registers %s %s with %s, not through api/gen/%s (go generate ./api, then implement its ServerInterface)",
					name, r.Method, path, r.Name, op.Tags[0])
			}
		}
	}
}

// conformance checks real answers against the document.
type conformance struct {
	t      *testing.T
	base   string
	router routers.Router
}

// check sends the request and fails unless the answer has want status
// and conforms to the document (an undocumented status fails too). It
// returns the body.
func (c *conformance) check(method, path, body string, want int) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	// The router matches the request as the server saw it, body again.
	req.Body = io.NopCloser(strings.NewReader(body))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(raw)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s: %d %s does not conform: %v", method, path, resp.StatusCode, raw, err)
	}
	return raw
}

func TestAnswersConformToSpec(t *testing.T) {
	doc := loadSpec(t, api.Spec)
	doc.Servers = nil // match requests on any host: the test server's port is free
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	sys := systemtest.Start(t, systemtest.Config{})
	calc, _ := sys.StartCalculator(t, nil, nil)
	log := slog.New(slog.DiscardHandler)
	c := &conformance{t: t, base: sys.ServeAPI(t, log).URL, router: router}

	c.check(http.MethodPost, "/inventory/adjustment", `{"locationId":"oas-loc","sku":"oas-sku","count":"10"}`, http.StatusCreated)
	c.check(http.MethodPost, "/inventory/reservation", `{"locationId":"oas-loc","sku":"oas-sku","count":3}`, http.StatusCreated)
	c.check(http.MethodPost, "/inventory/batch",
		`{"commands":[{"type":"adjustment","locationId":"oas-loc","sku":"oas-sku","count":1}]}`, http.StatusCreated)
	c.check(http.MethodPost, "/inventory/adjustment", `{"locationId":"oas-loc","sku":"oas-sku","count":"+5"}`, http.StatusBadRequest)
	c.check(http.MethodPost, "/inventory/batch", `{"commands":[]}`, http.StatusBadRequest)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/none", "", http.StatusNotFound)
	poll.Until(t, 10*time.Second, "the position applied", func() error {
		resp, err := http.Get(c.base + "/inventory/locations/oas-loc/skus/oas-sku")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), `"count":8`) {
			return fmt.Errorf("status %d: %s", resp.StatusCode, b.String())
		}
		return nil
	})
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku", "", http.StatusOK)
	c.check(http.MethodPost, "/inventory/counts", `{"locationId":"oas-loc","sku":"oas-count","onHand":7}`, http.StatusCreated)
	c.check(http.MethodPost, "/inventory/counts", `{"locationId":"oas-loc","sku":"oas-count","onHand":"7"}`, http.StatusOK)
	c.check(http.MethodPost, "/inventory/counts", `{"locationId":"oas-loc","sku":"oas-count","onHand":9,"expectedOnHand":1}`, http.StatusConflict)
	c.check(http.MethodPost, "/inventory/counts", `{"locationId":"oas-loc","sku":"oas-count","onHand":-1}`, http.StatusBadRequest)
	cart := `{"reservationId":"oas-r","lines":[{"locationId":"oas-loc","sku":"oas-sku","count":2}],"ttl":"1m"}`
	c.check(http.MethodPost, "/inventory/reservations", cart, http.StatusCreated)
	c.check(http.MethodPost, "/inventory/reservations", cart, http.StatusOK)
	c.check(http.MethodPost, "/inventory/reservations", `{"lines":[{"locationId":"oas-loc","sku":"oas-sku","count":100}]}`, http.StatusConflict)
	c.check(http.MethodPost, "/inventory/reservations", `{"reservationId":"oas-r","lines":[{"locationId":"oas-loc","sku":"oas-sku","count":1}]}`, http.StatusUnprocessableEntity)
	c.check(http.MethodPost, "/inventory/reservations", `{"lines":[]}`, http.StatusBadRequest)
	c.check(http.MethodGet, "/inventory/reservations/oas-r", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/reservations/none", "", http.StatusNotFound)
	c.check(http.MethodPost, "/inventory/reservations/oas-r/confirm", "", http.StatusOK)
	c.check(http.MethodPost, "/inventory/reservations/oas-r/fulfil", "", http.StatusOK)
	c.check(http.MethodPost, "/inventory/reservations/oas-r/release", "", http.StatusConflict)
	c.check(http.MethodPost, "/inventory/reservations/none/release", "", http.StatusNotFound)
	c.check(http.MethodPost, "/inventory/adjustment", `{"locationId":"oas-loc","sku":"oas-sku","count":2,"reason":"received","reference":"PO-1"}`, http.StatusCreated)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku?minSeq=1&wait=5s", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku?minSeq=x", "", http.StatusBadRequest)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku/history?limit=2", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku/history?limit=2&before=2", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/oas-sku/history?limit=0", "", http.StatusBadRequest)
	c.check(http.MethodGet, "/inventory/locations/oas-loc/skus/none/history", "", http.StatusNotFound)
	c.check(http.MethodGet, "/inventory/skus/oas-sku", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/skus/oas-sku?location=oas-loc&location=nowhere", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/skus/none", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/skus/oas-sku?location=", "", http.StatusBadRequest)
	c.check(http.MethodGet, "/healthz", "", http.StatusOK)
	c.check(http.MethodGet, "/openapi.yaml", "", http.StatusOK)
	loadSpec(t, c.check(http.MethodGet, "/openapi.json", "", http.StatusOK))

	// Readiness and status as the calculator serves them.
	pipe := api.NewServer(log)
	(&app.Pipeline{View: sys.View, Calculator: calc}).Register(pipe, sys.NC, sys.JS)
	c.base = serveEcho(t, pipe)
	c.check(http.MethodGet, "/readyz", "", http.StatusOK)
	c.check(http.MethodGet, "/calculator/status", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/deadletters", "", http.StatusOK)
	c.check(http.MethodGet, "/inventory/deadletters?limit=0", "", http.StatusBadRequest)
	c.check(http.MethodGet, "/inventory/changes?lastEventId=x", "", http.StatusBadRequest)

	// The registry subset answers in Confluent's shapes, errors included.
	c.base = serveEcho(t, app.RegistryAPI(sys.Registry(t), sys.NC, log))
	c.check(http.MethodGet, "/subjects", "", http.StatusOK)
	c.check(http.MethodGet, "/config", "", http.StatusOK)
	c.check(http.MethodGet, "/subjects/none/versions", "", http.StatusNotFound)
	c.check(http.MethodGet, "/schemas/ids/999", "", http.StatusNotFound)
}

// serveEcho serves e on a free local port until t ends.
func serveEcho(t *testing.T, e *echo.Echo) string {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}
