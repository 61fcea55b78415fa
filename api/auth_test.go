package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/streams"
)

// TestEveryRouteHasAScope fails when a program serves a route that
// api.RouteScopes does not list (it would be refused to everyone once
// credentials are configured), or when the table lists a route no
// program serves.
func TestEveryRouteHasAScope(t *testing.T) {
	servers := programServers()
	servers["pprof"] = app.PprofAPI(slog.New(slog.DiscardHandler))
	served := map[string]bool{}
	for name, e := range servers {
		for _, r := range e.Routes() {
			route := r.Method + " " + r.Path
			served[route] = true
			if _, ok := api.RouteScopes[route]; !ok {
				t.Errorf("%s serves %s, which api.RouteScopes does not list: add it with its scope", name, route)
			}
		}
	}
	var stale []string
	for route := range api.RouteScopes {
		if !served[route] {
			stale = append(stale, route)
		}
	}
	sort.Strings(stale)
	for _, r := range stale {
		t.Errorf("api.RouteScopes lists %s, which no program serves", r)
	}
}

// keys is a fixed set of principals for the tests.
type keys map[string]auth.Principal

func (k keys) Authenticate(_ context.Context, token string) (auth.Principal, error) {
	if token == "" {
		return auth.Principal{}, auth.ErrNoCredential
	}
	if token == "idp-down" {
		return auth.Principal{}, auth.ErrKeysUnavailable
	}
	p, ok := k[token]
	if !ok {
		return auth.Principal{}, auth.ErrBadCredential
	}
	return p, nil
}

var testKeys = keys{
	"adjust-key":  {ID: "wms", Scopes: []auth.Scope{auth.ScopeAdjust}},
	"reserve-key": {ID: "shop", Scopes: []auth.Scope{auth.ScopeReserve}},
	"read-key":    {ID: "reader", Scopes: []auth.Scope{auth.ScopeRead}},
	"both-key":    {ID: "feed", Scopes: []auth.Scope{auth.ScopeAdjust, auth.ScopeReserve}},
	"admin-key":   {ID: "ops", Scopes: []auth.Scope{auth.ScopeAdmin}},
}

// protectedStack is the command and query API over a real stack,
// protected by testKeys.
func protectedStack(t *testing.T, g api.Guard, extra func(e *echo.Echo)) (*systemtest.System, string) {
	t.Helper()
	sys := systemtest.Start(t, systemtest.Config{})
	e := sys.API(slog.New(slog.DiscardHandler))
	if extra != nil {
		extra(e)
	}
	g.Auth = testKeys
	api.Protect(e, g)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return sys, srv.URL
}

type answer struct {
	status int
	header http.Header
	body   string
}

func call(t *testing.T, method, url, authz, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

const adjustBody = `{"locationId":"STL","sku":"auth-1","count":5}`

func TestBearerTokensAndScopes(t *testing.T) {
	var late *echo.Echo
	sys, base := protectedStack(t, api.Guard{}, func(e *echo.Echo) {
		e.GET("/unlisted", func(c echo.Context) error { return c.String(http.StatusOK, "reached") })
		late = e
	})
	adjust := base + "/inventory/adjustment"

	a := call(t, "POST", adjust, "", adjustBody)
	if a.status != 401 || a.header.Get("WWW-Authenticate") != `Bearer realm="inventory"` || !strings.Contains(a.body, `"error":"a bearer token is required`) {
		t.Fatalf("no credential: %+v", a)
	}
	for _, authz := range []string{"Bearer nope", "Basic d21zOnNlY3JldA==", "Bearer "} {
		a = call(t, "POST", adjust, authz, adjustBody)
		if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(a.body, `"error":`) {
			t.Fatalf("%q: %+v", authz, a)
		}
	}
	if a = call(t, "POST", adjust, "Bearer idp-down", adjustBody); a.status != 503 {
		t.Fatalf("keys unavailable: %+v", a)
	}
	a = call(t, "POST", adjust, "Bearer reserve-key", adjustBody)
	if a.status != 403 || a.header.Get("WWW-Authenticate") != `Bearer realm="inventory", error="insufficient_scope", scope="inventory:adjust"` ||
		a.body != `{"error":"this needs the scope inventory:adjust"}`+"\n" {
		t.Fatalf("wrong scope: %+v", a)
	}
	if a = call(t, "GET", base+"/inventory/locations/STL/skus/auth-1", "Bearer adjust-key", ""); a.status != 403 {
		t.Fatalf("read with an adjust key: %+v", a)
	}
	if a = call(t, "GET", base+"/healthz", "", ""); a.status != 200 {
		t.Fatalf("healthz: %+v", a)
	}
	// A route nobody gave a scope to is refused, even to admin.
	if a = call(t, "GET", base+"/unlisted", "Bearer admin-key", ""); a.status != 403 || strings.Contains(a.body, "reached") {
		t.Fatalf("unlisted route: %+v", a)
	}
	// Also one registered once the server is running.
	if a = call(t, "GET", base+"/late", "Bearer admin-key", ""); a.status != 404 {
		t.Fatalf("before it exists: %+v", a)
	}
	late.GET("/late", func(c echo.Context) error { return c.String(http.StatusOK, "reached") })
	if a = call(t, "GET", base+"/late", "Bearer admin-key", ""); a.status != 403 || strings.Contains(a.body, "reached") {
		t.Fatalf("unlisted route registered late: %+v", a)
	}
	// A known path with another method: 405.
	if a = call(t, "DELETE", base+"/healthz", "Bearer read-key", ""); a.status != 405 {
		t.Fatalf("wrong method: %+v", a)
	}
	// An unknown path: 401 without a credential, 404 with one.
	if a = call(t, "GET", base+"/nowhere", "", ""); a.status != 401 {
		t.Fatalf("unknown path, no credential: %+v", a)
	}
	if a = call(t, "GET", base+"/nowhere", "Bearer read-key", ""); a.status != 404 {
		t.Fatalf("unknown path: %+v", a)
	}

	// The right scope stores the event with the principal as its source,
	// in the body and in the header its dead letter would keep.
	a = call(t, "POST", adjust, "Bearer adjust-key", adjustBody)
	if a.status != 201 {
		t.Fatalf("right scope: %+v", a)
	}
	seq := storedSeq(t, a.body)
	st, err := sys.JS.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(streams.HeaderSource) != "wms" || !strings.Contains(string(m.Data), `"source":"wms"`) {
		t.Fatalf("stored %v %s, want source wms", m.Header, m.Data)
	}
	if a = call(t, "POST", adjust, "Bearer admin-key", adjustBody); a.status != 201 {
		t.Fatalf("admin: %+v", a)
	}
}

func storedSeq(t *testing.T, body string) uint64 {
	t.Helper()
	i := strings.Index(body, `"seq":`)
	if i < 0 {
		t.Fatalf("no seq in %s", body)
	}
	rest := body[i+len(`"seq":`):]
	n, err := strconv.ParseUint(rest[:strings.IndexAny(rest, ",}")], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBatchNeedsReserveForItsReservations: the batch route needs
// inventory:adjust, and each reservation in it inventory:reserve.
func TestBatchNeedsReserveForItsReservations(t *testing.T) {
	_, base := protectedStack(t, api.Guard{}, nil)
	batch := `{"commands":[{"type":"adjustment","locationId":"STL","sku":"b","count":5},{"type":"reservation","locationId":"STL","sku":"b","count":1}]}`
	if a := call(t, "POST", base+"/inventory/batch", "Bearer adjust-key", batch); a.status != 403 || !strings.Contains(a.header.Get("WWW-Authenticate"), `scope="inventory:reserve"`) {
		t.Fatalf("adjust only: %+v", a)
	}
	if a := call(t, "POST", base+"/inventory/batch", "Bearer reserve-key", batch); a.status != 403 {
		t.Fatalf("reserve only: %+v", a)
	}
	if a := call(t, "POST", base+"/inventory/batch", "Bearer both-key", batch); a.status != 201 {
		t.Fatalf("both: %+v", a)
	}
}

// TestRateLimitPerPrincipal: past its burst a principal gets 429 with
// Retry-After on the command routes; another principal and the reads
// are not held back.
func TestRateLimitPerPrincipal(t *testing.T) {
	_, base := protectedStack(t, api.Guard{Rate: 0.01, Burst: 2}, nil)
	for i := range 2 {
		if a := call(t, "POST", base+"/inventory/adjustment", "Bearer adjust-key", adjustBody); a.status != 201 {
			t.Fatalf("request %d within the burst: %+v", i, a)
		}
	}
	a := call(t, "POST", base+"/inventory/adjustment", "Bearer adjust-key", adjustBody)
	retry, err := strconv.Atoi(a.header.Get("Retry-After"))
	if a.status != 429 || err != nil || retry < 50 || retry > 100 || !strings.Contains(a.body, `"error":"rate limit of wms exceeded`) {
		t.Fatalf("over the burst: %+v (Retry-After %v)", a, err)
	}
	if a := call(t, "POST", base+"/inventory/adjustment", "Bearer admin-key", adjustBody); a.status != 201 {
		t.Fatalf("another principal: %+v", a)
	}
	for range 5 {
		if a := call(t, "GET", base+"/inventory/locations/STL/skus/auth-1", "Bearer read-key", ""); a.status == 429 {
			t.Fatalf("a read was rate limited: %+v", a)
		}
	}
}

// TestOpenServerRecordsNoSource: without credentials configured nothing
// changes, and events carry no source.
func TestOpenServerRecordsNoSource(t *testing.T) {
	s := newStack(t)
	status, body := s.do(t, "POST", "/inventory/adjustment", adjustBody)
	if status != 201 {
		t.Fatalf("status %d %v", status, body)
	}
	st, err := s.sys.JS.Stream(context.Background(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetMsg(context.Background(), uint64(body["seq"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Header[streams.HeaderSource]; ok || strings.Contains(string(m.Data), "source") {
		t.Fatalf("stored %v %s", m.Header, m.Data)
	}
}

// TestSpecDocumentsScopes: the OpenAPI document marks as open exactly
// the routes RouteScopes leaves open, and every other operation
// documents 401 and 403 (and 429 on the rate-limited command routes).
func TestSpecDocumentsScopes(t *testing.T) {
	doc := loadSpec(t, api.Spec)
	for route, scope := range api.RouteScopes {
		method, path, _ := strings.Cut(route, " ")
		if strings.HasPrefix(path, "/debug/pprof/") {
			continue // the profiler is an operator's listener, not the API
		}
		item := doc.Paths.Value(echoParam.ReplaceAllString(path, "{$1}"))
		if item == nil || item.GetOperation(method) == nil {
			continue // TestSpecDescribesEveryRoute reports it
		}
		op := item.GetOperation(method)
		open := op.Security != nil && len(*op.Security) == 0
		if open != (scope == api.Open) {
			t.Errorf("%s: open in the document %v, in RouteScopes %v", route, open, scope == api.Open)
		}
		if scope == api.Open {
			continue
		}
		want := []string{"401", "403"}
		if scope == auth.ScopeAdjust || scope == auth.ScopeReserve {
			want = append(want, "429")
		}
		for _, status := range want {
			if op.Responses.Value(status) == nil {
				t.Errorf("%s: the document has no %s answer", route, status)
			}
		}
	}
}

// TestIdempotencyKeyIsPerPrincipal: the same key and body from another
// principal is another request (422), not a duplicate answered with the
// first principal's receipt.
func TestIdempotencyKeyIsPerPrincipal(t *testing.T) {
	_, base := protectedStack(t, api.Guard{}, nil)
	send := func(token string) answer {
		req, _ := http.NewRequest("POST", base+"/inventory/adjustment", strings.NewReader(adjustBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(api.IdempotencyHeader, "shared-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	if a := send("adjust-key"); a.status != 201 {
		t.Fatalf("first: %+v", a)
	}
	if a := send("adjust-key"); a.status != 200 || !strings.Contains(a.body, `"duplicate":true`) {
		t.Fatalf("retry by the same principal: %+v", a)
	}
	if a := send("admin-key"); a.status != 422 {
		t.Fatalf("same key from another principal: %+v", a)
	}
}
