package app

import (
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/query"
)

// ProjectionFlags registers the Scylla settings on f; the returned
// function builds the projection config after f is parsed. Hosts are
// empty unless SCYLLA_HOSTS or --scylla-hosts names some, or defHosts.
func ProjectionFlags(f Flags, defHosts string) func(w Wire, log *slog.Logger) projection.Config {
	def := projection.DefaultConfig()
	hosts := f.String("scylla-hosts", "SCYLLA_HOSTS", defHosts, "CQL contact points, comma-separated")
	keyspace := f.String("scylla-keyspace", "SCYLLA_KEYSPACE", def.Keyspace, "keyspace of the projection")
	replication := f.String("scylla-replication", "SCYLLA_REPLICATION", "", `replication of a new keyspace: N, "dc1:3,dc2:3" or a CQL map (default SimpleStrategy 1)`)
	inFlight := f.Int("max-in-flight", "PROJECTOR_MAX_IN_FLIGHT", def.MaxInFlight, "concurrent writes of the projector")
	return func(w Wire, log *slog.Logger) projection.Config {
		cfg := def
		cfg.Hosts = projection.ParseHosts(*hosts)
		cfg.Keyspace, cfg.Replication, cfg.MaxInFlight = *keyspace, *replication, *inFlight
		cfg.Logger = log
		return cfg
	}
}

// ProjectionAPI is the query API served from Scylla, with /healthz and a
// /readyz that is ready while NATS is connected and the database session
// is up. events reads the event stream: how far a key's events go (read
// your writes) and its history.
func ProjectionAPI(svc *projection.Service, nc *nats.Conn, events *query.EventLog, log *slog.Logger) *echo.Echo {
	e := api.NewServer(log)
	api.RegisterQueries(e, query.NewReader(svc.Reader(), events), events, svc.Reader())
	api.RegisterList(e, svc.Reader())
	api.RegisterReady(e, map[string]api.Check{"nats": NATSConnected(nc), "scylla": svc.Connected})
	return e
}

// RunProjection runs the projection of cfg in s and returns its API
// (ProjectionAPI) with the feed, dead letters and console (RegisterLive),
// decoding events with w's decoders. The projection
// waits for Scylla and for the view buckets' streams itself.
func RunProjection(s *Session, cfg projection.Config, w Wire) (*echo.Echo, error) {
	svc, err := projection.New(s.JS, cfg)
	if err != nil {
		return nil, err
	}
	s.Go(svc.Run)
	e := ProjectionAPI(svc, s.NC, query.NewEventLog(s.JS, w.Decoders), s.Log)
	if err := RegisterLive(e, s.JS, s.Log); err != nil {
		return nil, err
	}
	return e, nil
}
