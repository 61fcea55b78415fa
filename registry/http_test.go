package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2/registry"
	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/internal/natstest"
)

// newServer serves a fresh registry over HTTP, as another program would
// mount it: on its own Echo server, at the root.
func newServer(t *testing.T) string {
	t.Helper()
	e := echo.New()
	NewHandler(newStore(t, natstest.Start(t)), nil).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHambaClient(t *testing.T) {
	ctx := testContext(t)
	client, err := registry.NewClient(newServer(t))
	if err != nil {
		t.Fatal(err)
	}

	id1, _, err := client.CreateSchema(ctx, "orders-value", recA)
	if err != nil {
		t.Fatal(err)
	}
	again, _, err := client.CreateSchema(ctx, "orders-value", recA)
	if err != nil || again != id1 {
		t.Fatalf("re-create = %d, %v; want %d", again, err, id1)
	}
	id2, _, err := client.CreateSchema(ctx, "orders-value", recABdef)
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id1 {
		t.Fatalf("evolved schema reused id %d", id1)
	}

	sch, err := client.GetSchema(ctx, id1)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustParse(t, recA).schema; sch.Fingerprint() != want.Fingerprint() {
		t.Fatalf("GetSchema(%d) = %s", id1, sch)
	}
	latest, err := client.GetLatestSchema(ctx, "orders-value")
	if err != nil {
		t.Fatal(err)
	}
	if want := mustParse(t, recABdef).schema; latest.Fingerprint() != want.Fingerprint() {
		t.Fatalf("latest = %s", latest)
	}
	byVersion, err := client.GetSchemaByVersion(ctx, "orders-value", 1)
	if err != nil || byVersion.Fingerprint() != sch.Fingerprint() {
		t.Fatalf("version 1 = %v, %v", byVersion, err)
	}
	info, err := client.GetSchemaInfo(ctx, "orders-value", 2)
	if err != nil || info.ID != id2 || info.Version != 2 {
		t.Fatalf("info = %+v, %v", info, err)
	}
	latestInfo, err := client.GetLatestSchemaInfo(ctx, "orders-value")
	if err != nil || latestInfo.ID != id2 || latestInfo.Version != 2 {
		t.Fatalf("latest info = %+v, %v", latestInfo, err)
	}
	regID, _, err := client.IsRegistered(ctx, "orders-value", recA)
	if err != nil || regID != id1 {
		t.Fatalf("IsRegistered = %d, %v; want %d", regID, err, id1)
	}
	_, _, err = client.IsRegistered(ctx, "orders-value", recOther)
	var rerr registry.Error
	if !errors.As(err, &rerr) || rerr.Code != codeSchemaNotFound {
		t.Fatalf("IsRegistered(unknown) = %v, want 40403", err)
	}
	subjects, err := client.GetSubjects(ctx)
	if err != nil || !slices.Equal(subjects, []string{"orders-value"}) {
		t.Fatalf("subjects = %v, %v", subjects, err)
	}
	versions, err := client.GetVersions(ctx, "orders-value")
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("versions = %v, %v", versions, err)
	}
	ok, err := client.IsCompatible(ctx, "orders-value", recAint)
	if err != nil || ok {
		t.Fatalf("IsCompatible(incompatible) = %v, %v", ok, err)
	}
	ok, err = client.IsCompatible(ctx, "orders-value", recAlongStr)
	if err != nil || !ok {
		t.Fatalf("IsCompatible(compatible) = %v, %v", ok, err)
	}

	if err := client.SetGlobalCompatibilityLevel(ctx, registry.FullCL); err != nil {
		t.Fatal(err)
	}
	if l, err := client.GetGlobalCompatibilityLevel(ctx); err != nil || l != registry.FullCL {
		t.Fatalf("global level = %q, %v", l, err)
	}
	if err := client.SetCompatibilityLevel(ctx, "orders-value", registry.NoneCL); err != nil {
		t.Fatal(err)
	}
	if l, err := client.GetCompatibilityLevel(ctx, "orders-value"); err != nil || l != registry.NoneCL {
		t.Fatalf("subject level = %q, %v", l, err)
	}
}

type response struct {
	status      int
	contentType string
	body        map[string]any
	raw         string
}

func do(t *testing.T, method, url, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(testContext(t), method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func schemaBody(t *testing.T, schema string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(map[string]string{"schema": schema}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTTPErrors(t *testing.T) {
	base := newServer(t)
	if r := do(t, http.MethodPost, base+"/subjects/known/versions", schemaBody(t, recA)); r.status != http.StatusOK {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}

	tests := []struct {
		name, method, path, body string
		status, code             int
	}{
		{"unknown subject versions", "GET", "/subjects/nobody/versions", "", 404, 40401},
		{"unknown subject version", "GET", "/subjects/nobody/versions/1", "", 404, 40401},
		{"unknown subject lookup", "POST", "/subjects/nobody", schemaBody(t, recA), 404, 40401},
		{"unknown version", "GET", "/subjects/known/versions/7", "", 404, 40402},
		{"invalid version", "GET", "/subjects/known/versions/zero", "", 422, 42202},
		{"version 0", "GET", "/subjects/known/versions/0", "", 422, 42202},
		{"unknown id", "GET", "/schemas/ids/4242", "", 404, 40403},
		{"non-numeric id", "GET", "/schemas/ids/abc", "", 404, 40403},
		{"id past any integer", "GET", "/schemas/ids/99999999999999999999/schema", "", 404, 40403},
		// The generated wrapper's own refusals come out in Confluent's body.
		{"verbose given twice", "POST", "/compatibility/subjects/known/versions?verbose=true&verbose=false", schemaBody(t, recA), 400, 400},
		{"schema not under subject", "POST", "/subjects/known", schemaBody(t, recOther), 404, 40403},
		{"invalid schema", "POST", "/subjects/known/versions", schemaBody(t, `{"type":"nope"}`), 422, 42201},
		{"empty schema", "POST", "/subjects/known/versions", `{"schema":""}`, 422, 42201},
		{"other schema type", "POST", "/subjects/known/versions", `{"schema":"{}","schemaType":"PROTOBUF"}`, 422, 42201},
		{"references", "POST", "/subjects/known/versions",
			`{"schema":"\"string\"","references":[{"name":"x","subject":"y","version":1}]}`, 422, 42201},
		{"malformed body", "POST", "/subjects/known/versions", `{"schema":`, 400, 400},
		{"incompatible", "POST", "/subjects/known/versions", schemaBody(t, recAint), 409, 409},
		{"bad level", "PUT", "/config", `{"compatibility":"SIDEWAYS"}`, 422, 42203},
		// A spelling that would lose to the other is still checked, not ignored.
		{"bad losing level", "PUT", "/config", `{"compatibility":"NONE","compatibilityLevel":"SIDEWAYS"}`, 422, 42203},
		{"empty level", "PUT", "/config", `{"compatibility":"","compatibilityLevel":"NONE"}`, 422, 42203},
		{"null level", "PUT", "/config", `{"compatibility":null}`, 422, 42203},
		{"no level", "PUT", "/config", `{}`, 422, 42203},
		{"subject level unset", "GET", "/config/known", "", 404, 40408},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, base+tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", r.status, tt.status, r.raw)
			}
			if code, _ := r.body["error_code"].(float64); int(code) != tt.code {
				t.Fatalf("error_code = %v, want %d: %s", r.body["error_code"], tt.code, r.raw)
			}
			if msg, _ := r.body["message"].(string); msg == "" {
				t.Fatalf("no message: %s", r.raw)
			}
			if r.contentType != mediaTypeV1 {
				t.Fatalf("content type = %q", r.contentType)
			}
		})
	}
}

func TestHTTPEvolution(t *testing.T) {
	base := newServer(t)
	register := func(subject, schema string) response {
		return do(t, http.MethodPost, base+"/subjects/"+subject+"/versions", schemaBody(t, schema))
	}
	r := register("ev", recA)
	if r.status != 200 {
		t.Fatalf("v1: %d %s", r.status, r.raw)
	}
	id1 := r.body["id"]

	// BACKWARD (the default) refuses a new field without a default...
	if r := register("ev", recAB); r.status != 409 {
		t.Fatalf("field without default: %d %s", r.status, r.raw)
	}
	// ...and accepts one with a default.
	r = register("ev", recABdef)
	if r.status != 200 || r.body["id"] == id1 {
		t.Fatalf("field with default: %d %s", r.status, r.raw)
	}
	id2 := r.body["id"]

	r = do(t, http.MethodGet, base+"/subjects/ev/versions/latest", "")
	if r.status != 200 || r.body["subject"] != "ev" || r.body["version"] != float64(2) || r.body["id"] != id2 {
		t.Fatalf("latest: %d %s", r.status, r.raw)
	}
	if _, err := parseAvro(r.body["schema"].(string)); err != nil {
		t.Fatalf("latest schema: %v", err)
	}
	r = do(t, http.MethodPost, base+"/subjects/ev", schemaBody(t, recA))
	if r.status != 200 || r.body["version"] != float64(1) || r.body["id"] != id1 {
		t.Fatalf("lookup: %d %s", r.status, r.raw)
	}
	r = do(t, http.MethodGet, base+"/schemas/ids/"+jsonNumber(id1), "")
	if r.status != 200 || r.body["schema"] == nil {
		t.Fatalf("by id: %d %s", r.status, r.raw)
	}

	// NONE allows anything, including another record altogether.
	if r := do(t, http.MethodPut, base+"/config/ev", `{"compatibility":"NONE"}`); r.status != 200 || r.body["compatibility"] != "NONE" {
		t.Fatalf("put subject config: %d %s", r.status, r.raw)
	}
	if r := register("ev", recOther); r.status != 200 {
		t.Fatalf("NONE: %d %s", r.status, r.raw)
	}
	if r := do(t, http.MethodGet, base+"/subjects/ev/versions", ""); r.raw != "[1,2,3]" {
		t.Fatalf("versions: %s", r.raw)
	}
}

func TestHTTPConfig(t *testing.T) {
	base := newServer(t)
	r := do(t, http.MethodGet, base+"/config", "")
	if r.status != 200 || r.body["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("default: %d %s", r.status, r.raw)
	}
	for _, level := range []string{"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"} {
		if r := do(t, http.MethodPut, base+"/config", `{"compatibility":"`+level+`"}`); r.status != 200 || r.body["compatibility"] != level {
			t.Fatalf("put %s: %d %s", level, r.status, r.raw)
		}
		if r := do(t, http.MethodGet, base+"/config", ""); r.body["compatibilityLevel"] != level {
			t.Fatalf("get after %s: %s", level, r.raw)
		}
	}
	// A subject without a level of its own follows the global one only
	// when asked to, as in Confluent.
	if r := do(t, http.MethodGet, base+"/config/s?defaultToGlobal=true", ""); r.body["compatibilityLevel"] != "FULL_TRANSITIVE" {
		t.Fatalf("defaultToGlobal: %s", r.raw)
	}
	if r := do(t, http.MethodPut, base+"/config/s", `{"compatibility":"forward"}`); r.status != 200 {
		t.Fatalf("put subject: %d %s", r.status, r.raw)
	}
	if r := do(t, http.MethodGet, base+"/config/s", ""); r.body["compatibilityLevel"] != "FORWARD" {
		t.Fatalf("get subject: %s", r.raw)
	}
}

func TestHTTPContentTypes(t *testing.T) {
	base := newServer(t)
	for _, ct := range []string{"application/json", "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json"} {
		req, _ := http.NewRequestWithContext(testContext(t), http.MethodPost, base+"/subjects/ct/versions", strings.NewReader(schemaBody(t, recA)))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Accept", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := mediaTypeV1
		if ct == "application/json" {
			want = ct
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want {
			t.Fatalf("%s: %d %s", ct, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	req, _ := http.NewRequestWithContext(testContext(t), http.MethodPost, base+"/subjects/ct/versions", strings.NewReader(schemaBody(t, recA)))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d", resp.StatusCode)
	}
}

// Subject names travel escaped in the path, including '/' as %2F.
func TestHTTPEscapedSubject(t *testing.T) {
	base := newServer(t)
	for _, path := range []string{"a%2Fb", "with%20space", "dots.and-dashes"} {
		if r := do(t, http.MethodPost, base+"/subjects/"+path+"/versions", schemaBody(t, recA)); r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.raw)
		}
		if r := do(t, http.MethodGet, base+"/subjects/"+path+"/versions/1", ""); r.status != 200 {
			t.Fatalf("get %s: %d %s", path, r.status, r.raw)
		}
	}
	if r := do(t, http.MethodGet, base+"/subjects", ""); r.raw != `["a/b","dots.and-dashes","with space"]` {
		t.Fatalf("subjects: %s", r.raw)
	}
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Only a real storage failure is a 500, and its details stay in the log.
func TestHTTPStoreFailure(t *testing.T) {
	srv := natstest.Start(t)
	e := echo.New()
	NewHandler(newStore(t, srv), nil).Register(e)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	if err := srv.JS.DeleteKeyValue(testContext(t), DefaultBucket); err != nil {
		t.Fatal(err)
	}
	r := do(t, http.MethodGet, ts.URL+"/subjects/x/versions", "")
	if r.status != http.StatusInternalServerError || r.body["error_code"] != float64(codeStore) {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if strings.Contains(r.raw, "nats") {
		t.Fatalf("internal error leaked: %s", r.raw)
	}
}
