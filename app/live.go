package app

import (
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/feed/jsfeed"
)

// RegisterLive mounts what operators watch on a query API: the sellable
// changes as Server-Sent Events, the dead letters and the console. Every
// query service serves them, from JetStream, whichever store answers its
// queries. The feed reads the view buckets' streams, whose values are
// kv's own JSON, so it needs no codec.
func RegisterLive(e *echo.Echo, js jetstream.JetStream, log *slog.Logger) error {
	cfg := jsfeed.DefaultConfig()
	cfg.Logger = log
	cfg.Frame = api.ChangeFrame // encoded once per change, not per subscriber
	src, err := jsfeed.NewSource(js, cfg)
	if err != nil {
		return err
	}
	return api.RegisterLive(e, src, api.DefaultFeedConfig(), jsfeed.NewDeadLetters(js))
}
