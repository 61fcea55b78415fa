package api

import (
	"embed"

	"github.com/labstack/echo/v4"
)

// consoleFS is the operator console: one page, a script and a style
// sheet, written by hand. It reads only this API (the feed, history,
// reservations, dead letters, /calculator/status), so it needs no build
// step, no CDN and no network beyond the service; a panel whose route a
// program does not serve says so.
//
//go:embed console/index.html console/console.js console/console.css
var consoleFS embed.FS

var consoleFiles = []embeddedFile{
	{"/console", "console/index.html", echo.MIMETextHTMLCharsetUTF8},
	{"/console/console.js", "console/console.js", mimeJS},
	{"/console/console.css", "console/console.css", mimeCSS},
}

// RegisterConsole mounts the operator console at GET /console.
func RegisterConsole(e *echo.Echo) { registerFiles(e, consoleFS, consoleFiles) }
