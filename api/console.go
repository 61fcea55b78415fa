package api

import (
	"embed"

	"github.com/labstack/echo/v4"
)

// consoleFS is the operator console: one page, a script and a style
// sheet, written by hand. It reads only this API (the feed, history,
// reservations, dead letters, /calculator/status), so it needs no build
// step, no CDN and no network beyond the service; a panel whose route a
// program does not serve says so. On a secured server the page is Open
// (RouteScopes) and its calls carry the bearer token typed into it; for
// that the board reads the feed with fetch, since EventSource cannot
// send a header.
//
//go:embed console/index.html console/console.js console/console.css
var consoleFS embed.FS

func (liveServer) Console(c echo.Context) error {
	return embeddedFile(c, consoleFS, "console/index.html", echo.MIMETextHTMLCharsetUTF8)
}

func (liveServer) ConsoleScript(c echo.Context) error {
	return embeddedFile(c, consoleFS, "console/console.js", mimeJS)
}

func (liveServer) ConsoleStyle(c echo.Context) error {
	return embeddedFile(c, consoleFS, "console/console.css", mimeCSS)
}
