package api

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// docsFS holds the documentation page and the Swagger UI it loads
// (docs/README.md says where it comes from and how to update it). It is
// embedded so the page works without network access and cannot drift
// from the binary's own document.
//
//go:embed docs/index.html docs/init.js docs/swagger-ui-bundle.js docs/swagger-ui.css
var docsFS embed.FS

// docsFiles maps each route to its embedded file and media type. The
// routes are listed one by one rather than as a wildcard so the OpenAPI
// document can name each and nothing else under /docs is served.
var docsFiles = []struct{ route, file, mime string }{
	{"/docs", "docs/index.html", echo.MIMETextHTMLCharsetUTF8},
	{"/docs/init.js", "docs/init.js", "application/javascript; charset=utf-8"},
	{"/docs/swagger-ui-bundle.js", "docs/swagger-ui-bundle.js", "application/javascript; charset=utf-8"},
	{"/docs/swagger-ui.css", "docs/swagger-ui.css", "text/css; charset=utf-8"},
}

// registerDocs mounts the documentation page at GET /docs and its assets
// under /docs/.
func registerDocs(e *echo.Echo) {
	for _, f := range docsFiles {
		// Embedded: a missing file is a build defect the tests catch.
		b, err := docsFS.ReadFile(f.file)
		if err != nil {
			panic(err)
		}
		mime := f.mime
		e.GET(f.route, func(c echo.Context) error {
			return c.Blob(http.StatusOK, mime, b)
		})
	}
}
