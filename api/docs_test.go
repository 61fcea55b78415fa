package api_test

import (
	"bytes"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/sellable/inventory/api"
)

// get fetches u and fails unless it answers 200 with media type want;
// it returns the body.
func get(t *testing.T, u, want string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %.200s", u, resp.StatusCode, b)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != want {
		t.Fatalf("GET %s: Content-Type %q, want %s", u, resp.Header.Get("Content-Type"), want)
	}
	return b
}

var pageRef = regexp.MustCompile(`(?:src|href|data-spec)="([^"]*)"`)

// TestDocsPage follows every reference of the page at /docs as a browser
// would (relative to the page) and checks each answers the vendored
// file with its media type, and that the page names the document.
func TestDocsPage(t *testing.T) {
	base := serveEcho(t, api.NewServer(slog.New(slog.DiscardHandler)))
	pageURL, err := url.Parse(base + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	page := get(t, pageURL.String(), "text/html")
	disk, err := os.ReadFile("docs/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, disk) {
		t.Fatal("/docs does not answer docs/index.html")
	}

	types := map[string]string{".js": "application/javascript", ".css": "text/css"}
	seen := map[string]bool{}
	for _, m := range pageRef.FindAllSubmatch(page, -1) {
		ref, err := url.Parse(string(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		if ref.IsAbs() || ref.Host != "" || strings.HasPrefix(ref.Path, "/") {
			t.Errorf("page references %q: want a path relative to the page", m[1])
			continue
		}
		u := pageURL.ResolveReference(ref)
		seen[u.Path] = true
		if u.Path == "/openapi.json" {
			js, err := api.SpecJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(get(t, u.String(), "application/json"), js) {
				t.Error("the page's document is not /openapi.json")
			}
			continue
		}
		want, ok := types[path.Ext(u.Path)]
		if !ok {
			t.Errorf("page references %s, of no known type", u.Path)
			continue
		}
		// The test's working directory is the package's: the asset
		// served must be the file vendored under api/docs.
		disk, err := os.ReadFile(strings.TrimPrefix(u.Path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(get(t, u.String(), want), disk) {
			t.Errorf("%s does not answer the vendored file", u.Path)
		}
	}
	for _, p := range []string{"/openapi.json", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/init.js"} {
		if !seen[p] {
			t.Errorf("the page does not reference %s", p)
		}
	}
}

// TestDocsFetchNothingElsewhere guards "nothing fetched at run time":
// the page and its script name no other origin, the online validator
// (validator.swagger.io, Swagger UI's default) is off, and the style
// sheet loads no font or sheet from anywhere.
func TestDocsFetchNothingElsewhere(t *testing.T) {
	for _, f := range []string{"docs/index.html", "docs/init.js"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).Find(b); m != nil {
			t.Errorf("%s names another origin: %s", f, m)
		}
	}
	init, err := os.ReadFile("docs/init.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(init, []byte("validatorUrl: null")) {
		t.Error("docs/init.js leaves the online validator on")
	}
	css, err := os.ReadFile("docs/swagger-ui.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"@import", "@font-face", "url(http", "url(//"} {
		if bytes.Contains(css, []byte(bad)) {
			t.Errorf("docs/swagger-ui.css contains %q", bad)
		}
	}
}
