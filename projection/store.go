package projection

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gocql/gocql"
	"github.com/scylladb/gocqlx/v2"
	"github.com/scylladb/gocqlx/v2/qb"
	"github.com/scylladb/gocqlx/v2/table"

	"github.com/sellable/inventory/sellable"
)

// row is a position as the sellable table stores it.
type row struct {
	Location  string    `db:"location"`
	SKU       string    `db:"sku"`
	Count     int64     `db:"count"`
	Adjusted  int64     `db:"adjusted"`
	Reserved  int64     `db:"reserved"`
	Seq       int64     `db:"seq"`
	UpdatedAt time.Time `db:"updated_at"`
}

func toRow(p sellable.Position) row {
	return row{
		Location: p.LocationID, SKU: p.SKU,
		Count: p.Count, Adjusted: p.OnHand, Reserved: p.Reserved,
		Seq: int64(p.Seq), UpdatedAt: p.UpdatedAt,
	}
}

func (r row) position() sellable.Position {
	return sellable.Position{
		LocationID: r.Location, SKU: r.SKU,
		Count: r.Count, OnHand: r.Adjusted, Reserved: r.Reserved,
		Seq: uint64(r.Seq), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

var sellableTable = table.New(table.Metadata{
	Name:    "sellable",
	Columns: []string{"location", "sku", "count", "adjusted", "reserved", "seq", "updated_at"},
	PartKey: []string{"location"},
	SortKey: []string{"sku"},
})

// The write timestamp is the event sequence: last-write-wins by seq.
var upsertStmt, upsertNames = sellableTable.InsertBuilder().TimestampNamed("ts").ToCql()

// Store is a session on the projection's keyspace.
type Store struct {
	session gocqlx.Session
}

// Connect opens a session, creating the keyspace and applying the
// migrations when they are absent. It fails fast when no host answers;
// callers retry.
func Connect(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := createKeyspace(ctx, cfg); err != nil {
		return nil, err
	}
	cl := cluster(cfg)
	cl.Keyspace = cfg.Keyspace
	s, err := gocqlx.WrapSession(cl.CreateSession())
	if err != nil {
		return nil, fmt.Errorf("projection: connect %v: %w: %w", cfg.Hosts, sellable.ErrUnavailable, err)
	}
	if err := applyMigrations(ctx, s); err != nil {
		s.Close()
		return nil, err
	}
	return &Store{session: s}, nil
}

// cluster is the driver configuration. Timeouts are short and downed
// hosts are retried every second (the driver's default is a minute), so
// that a restarted node is back in use within about a second.
func cluster(cfg Config) *gocql.ClusterConfig {
	cl := gocql.NewCluster(cfg.Hosts...)
	cl.ProtoVersion = 4
	cl.Consistency = gocql.LocalQuorum
	cl.Timeout = cfg.Timeout
	cl.ConnectTimeout = cfg.ConnectTimeout
	cl.WriteTimeout = cfg.Timeout
	cl.ReconnectInterval = time.Second
	cl.ReconnectionPolicy = &gocql.ExponentialReconnectionPolicy{
		MaxRetries: 10, InitialInterval: 100 * time.Millisecond, MaxInterval: 2 * time.Second,
	}
	cl.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	cl.Logger = driverLogger{cfg.logger()}
	return cl
}

// Close ends the session.
func (s *Store) Close() { s.session.Close() }

// Upsert writes p unless the row already reflects a later event: the
// write's timestamp is p.Seq, so an older or repeated change loses to
// what is stored without reading it first.
func (s *Store) Upsert(ctx context.Context, p sellable.Position) error {
	if err := checkChange(p); err != nil {
		return err
	}
	q := s.session.ContextQuery(ctx, upsertStmt, upsertNames).
		BindStructMap(toRow(p), qb.M{"ts": int64(p.Seq)}).
		Idempotent(true)
	if err := q.ExecRelease(); err != nil {
		return fmt.Errorf("projection: upsert %s/%s@%d: %w", p.LocationID, p.SKU, p.Seq, unavailable(err))
	}
	return nil
}

// checkChange rejects what can never be written.
func checkChange(p sellable.Position) error {
	if err := (sellable.Key{LocationID: p.LocationID, SKU: p.SKU}).Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadChange, err)
	}
	if p.Seq == 0 || p.Seq > math.MaxInt64 {
		return fmt.Errorf("%w: seq %d out of range", ErrBadChange, p.Seq)
	}
	return nil
}

var getStmt, getNames = sellableTable.Get()

// Get reads one position.
func (s *Store) Get(ctx context.Context, locationID, sku string) (sellable.Position, error) {
	if err := (sellable.Key{LocationID: locationID, SKU: sku}).Validate(); err != nil {
		return sellable.Position{}, err
	}
	var r row
	err := s.session.ContextQuery(ctx, getStmt, getNames).
		Bind(locationID, sku).GetRelease(&r)
	if errors.Is(err, gocql.ErrNotFound) {
		return sellable.Position{}, fmt.Errorf("projection: get %s/%s: %w", locationID, sku, sellable.ErrNotFound)
	}
	if err != nil {
		return sellable.Position{}, fmt.Errorf("projection: get %s/%s: %w", locationID, sku, unavailable(err))
	}
	return r.position(), nil
}

// unavailable marks driver errors that say the database cannot be reached
// or did not answer in time, so that callers back off and the API answers
// 503. Errors about the request itself are returned as they are.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var re gocql.RequestError
	if errors.As(err, &re) {
		switch re.Code() {
		case gocql.ErrCodeSyntax, gocql.ErrCodeInvalid, gocql.ErrCodeUnauthorized,
			gocql.ErrCodeConfig, gocql.ErrCodeProtocol:
			return err
		}
	}
	return fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
}
