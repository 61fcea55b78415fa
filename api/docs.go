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
var docsFiles = []embeddedFile{
	{"/docs", "docs/index.html", echo.MIMETextHTMLCharsetUTF8},
	{"/docs/init.js", "docs/init.js", mimeJS},
	{"/docs/swagger-ui-bundle.js", "docs/swagger-ui-bundle.js", mimeJS},
	{"/docs/swagger-ui.css", "docs/swagger-ui.css", mimeCSS},
}

const (
	mimeJS  = "application/javascript; charset=utf-8"
	mimeCSS = "text/css; charset=utf-8"
)

// registerDocs mounts the documentation page at GET /docs and its assets
// under /docs/.
func registerDocs(e *echo.Echo) { registerFiles(e, docsFS, docsFiles) }

// embeddedFile is one static file served at route.
type embeddedFile struct{ route, file, mime string }

// registerFiles mounts each file of fsys at its route.
func registerFiles(e *echo.Echo, fsys embed.FS, files []embeddedFile) {
	for _, f := range files {
		// Embedded: a missing file is a build defect the tests catch.
		b, err := fsys.ReadFile(f.file)
		if err != nil {
			panic(err)
		}
		mime := f.mime
		e.GET(f.route, func(c echo.Context) error {
			return c.Blob(http.StatusOK, mime, b)
		})
	}
}
