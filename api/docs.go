package api

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// docsFS holds the documentation page and the Swagger UI it loads
// (docs/README.md says where it comes from and how to update it). It is
// embedded so the page works without network access and cannot drift
// from the binary's own document. Each file is an operation of its own
// in openapi.yaml, so nothing else under /docs is served.
//
//go:embed docs/index.html docs/init.js docs/swagger-ui-bundle.js docs/swagger-ui.css
var docsFS embed.FS

// docsFile answers an embedded file of docsFS.
func docsFile(c echo.Context, name, mime string) error { return embeddedFile(c, docsFS, name, mime) }

// embeddedFile answers the file name of fsys.
func embeddedFile(c echo.Context, fsys embed.FS, name, mime string) error {
	b, err := fsys.ReadFile(name)
	if err != nil {
		return err // embedded: a missing file is a build defect the tests catch
	}
	return c.Blob(http.StatusOK, mime, b)
}

const (
	mimeJS  = "application/javascript; charset=utf-8"
	mimeCSS = "text/css; charset=utf-8"
)

func (operationsServer) DocsPage(c echo.Context) error {
	return docsFile(c, "docs/index.html", echo.MIMETextHTMLCharsetUTF8)
}

func (operationsServer) DocsInit(c echo.Context) error {
	return docsFile(c, "docs/init.js", mimeJS)
}

func (operationsServer) DocsSwaggerUI(c echo.Context) error {
	return docsFile(c, "docs/swagger-ui-bundle.js", mimeJS)
}

func (operationsServer) DocsSwaggerUICSS(c echo.Context) error {
	return docsFile(c, "docs/swagger-ui.css", mimeCSS)
}
