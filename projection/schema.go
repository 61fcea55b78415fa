package projection

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"text/template"

	"github.com/scylladb/gocqlx/v2"
	"github.com/scylladb/gocqlx/v2/migrate"

	"github.com/sellable/inventory/sellable"
)

// keyspaceCQL is a template because the keyspace name and its replication
// are deployment settings; everything inside the keyspace is a numbered
// migration.
//
//go:embed keyspace.cql
var keyspaceCQL string

var keyspaceTmpl = template.Must(template.New("keyspace").Parse(keyspaceCQL))

// Migrations are applied in file name order by gocqlx/migrate, which
// records each applied file (and its checksum) in the keyspace's
// gocqlx_migrate table, so a file runs once and an edited one is refused.
//
//go:embed migrations/*.cql
var migrationFiles embed.FS

func createKeyspace(ctx context.Context, cfg Config) error {
	repl, err := replicationMap(cfg.Replication)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var stmt strings.Builder
	if err := keyspaceTmpl.Execute(&stmt, struct{ Keyspace, Replication string }{cfg.Keyspace, repl}); err != nil {
		return fmt.Errorf("projection: keyspace statement: %w", err)
	}
	s, err := gocqlx.WrapSession(cluster(cfg).CreateSession())
	if err != nil {
		return fmt.Errorf("projection: connect %v: %w: %w", cfg.Hosts, sellable.ErrUnavailable, err)
	}
	defer s.Close()
	if err := s.ContextQuery(ctx, stmt.String(), nil).ExecRelease(); err != nil {
		return fmt.Errorf("projection: create keyspace %s: %w", cfg.Keyspace, unavailable(err))
	}
	if err := s.AwaitSchemaAgreement(ctx); err != nil {
		return fmt.Errorf("projection: create keyspace %s: %w", cfg.Keyspace, unavailable(err))
	}
	return nil
}

// migrationCalls are the Go steps of migrations, named by their files'
// "-- CALL <name>;" comments.
var migrationCalls = func() migrate.CallbackRegister {
	r := migrate.CallbackRegister{}
	r.Add(migrate.CallComment, "add_sellable_columns", func(ctx context.Context, s gocqlx.Session, _ migrate.CallbackEvent, _ string) error {
		return addColumns(ctx, s, "sellable", "on_hand bigint", "sellable bigint")
	})
	return r
}()

func init() { migrate.Callback = migrationCalls.Callback }

// addColumns adds each "name type" column to table unless it is there:
// CQL's ALTER TABLE ... ADD fails on an existing column, and a timed-out
// attempt may have added it, so a retried migration must not depend on
// whether it did. A column is there when selecting it works.
func addColumns(ctx context.Context, s gocqlx.Session, table string, columns ...string) error {
	for _, col := range columns {
		name, _, _ := strings.Cut(col, " ")
		if s.ContextQuery(ctx, "SELECT "+name+" FROM "+table+" LIMIT 1", nil).ExecRelease() == nil {
			continue
		}
		err := s.ContextQuery(ctx, "ALTER TABLE "+table+" ADD "+col, nil).ExecRelease()
		if err != nil && s.ContextQuery(ctx, "SELECT "+name+" FROM "+table+" LIMIT 1", nil).ExecRelease() != nil {
			return fmt.Errorf("add column %s to %s: %w", name, table, err)
		}
	}
	return nil
}

func applyMigrations(ctx context.Context, s gocqlx.Session) error {
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if err := migrate.FromFS(ctx, s, dir); err != nil {
		return fmt.Errorf("projection: migrate: %w", unavailable(err))
	}
	return nil
}

// dropKeyspace removes a keyspace and everything in it; tests clean up
// with it.
func dropKeyspace(ctx context.Context, cfg Config) error {
	if !keyspaceName.MatchString(cfg.Keyspace) {
		return fmt.Errorf("%w: keyspace %q", ErrConfig, cfg.Keyspace)
	}
	s, err := gocqlx.WrapSession(cluster(cfg).CreateSession())
	if err != nil {
		return fmt.Errorf("projection: connect %v: %w: %w", cfg.Hosts, sellable.ErrUnavailable, err)
	}
	defer s.Close()
	return s.ContextQuery(ctx, "DROP KEYSPACE IF EXISTS "+cfg.Keyspace, nil).ExecRelease()
}

// driverLogger sends the driver's chatter (every failed dial while a node
// is down) to debug level; the projector logs what matters itself.
type driverLogger struct{ log *slog.Logger }

func (l driverLogger) Print(v ...any) { l.log.Debug("gocql: " + fmt.Sprint(v...)) }
func (l driverLogger) Printf(format string, v ...any) {
	l.log.Debug("gocql: " + fmt.Sprintf(format, v...))
}
func (l driverLogger) Println(v ...any) {
	l.log.Debug("gocql: " + strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
