package api

import (
	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/live"
)

// RegisterLive mounts the operations tagged live in openapi.yaml through
// their generated server (gen/live): what operators watch on a query
// program, GET /inventory/changes (Server-Sent Events from src),
// GET /inventory/deadletters (from l) and the console, /console and its
// two assets.
func RegisterLive(e *echo.Echo, src ChangeSource, cfg FeedConfig, l DeadLetterLister) error {
	changes, err := changesHandler(e, src, cfg)
	if err != nil {
		return err
	}
	live.RegisterHandlersWithOptions(e, liveServer{changes: changes, deadLetters: deadLettersHandler(l)},
		live.RegisterHandlersOptions{OperationMiddlewares: withValidation("live", nil)})
	return nil
}

// liveServer implements the generated live.ServerInterface. The feed and
// the dead letters read their query parameters by hand (cursor, limit,
// before), as their handlers always did; the console is embedded files.
type liveServer struct {
	changes, deadLetters echo.HandlerFunc
}

var _ live.ServerInterface = liveServer{}

func (s liveServer) WatchChanges(c echo.Context, _ live.WatchChangesParams) error {
	return s.changes(c)
}

func (s liveServer) ListDeadLetters(c echo.Context, _ live.ListDeadLettersParams) error {
	return s.deadLetters(c)
}
