package projection

import (
	"context"
	"fmt"

	"github.com/scylladb/gocqlx/v2/qb"

	"github.com/sellable/inventory/sellable"
)

// DropKeyspace lets the external tests clean up.
var DropKeyspace = dropKeyspace

// The alternative to USING TIMESTAMP that BenchmarkUpsert measures: a
// conditional write through Paxos. It lives in its own table because LWT
// writes carry wall-clock timestamps, which would always beat seq ones.
const lwtTable = `CREATE TABLE IF NOT EXISTS sellable_lwt (
    location text, sku text, count bigint, adjusted bigint, reserved bigint,
    seq bigint, updated_at timestamp, PRIMARY KEY ((location), sku))`

var (
	lwtUpdateStmt, lwtUpdateNames = qb.Update("sellable_lwt").
					Set("count", "adjusted", "reserved", "seq", "updated_at").
					Where(qb.Eq("location"), qb.Eq("sku")).
					If(qb.LtNamed("seq", "seq")).ToCql()
	lwtInsertStmt, lwtInsertNames = qb.Insert("sellable_lwt").
					Columns("location", "sku", "count", "adjusted", "reserved", "seq", "updated_at").
					Unique().ToCql()
)

// CreateLWTTable makes the benchmark's table.
func (s *Store) CreateLWTTable(ctx context.Context) error {
	return s.session.ContextQuery(ctx, lwtTable, nil).ExecRelease()
}

// UpsertLWT is Upsert as a compare-and-set on seq: UPDATE … IF seq < ?,
// and INSERT … IF NOT EXISTS when the row is absent. In the steady state
// (the row exists) that is one Paxos round.
func (s *Store) UpsertLWT(ctx context.Context, p sellable.Position) error {
	r := toRow(p)
	for range 3 {
		var prev struct {
			Seq *int64 `db:"seq"`
		}
		applied, err := s.session.ContextQuery(ctx, lwtUpdateStmt, lwtUpdateNames).
			BindStruct(r).GetCASRelease(&prev)
		if err != nil {
			return err
		}
		if applied || prev.Seq != nil {
			return nil // written, or a newer value is there
		}
		applied, err = s.session.ContextQuery(ctx, lwtInsertStmt, lwtInsertNames).
			BindStruct(r).ExecCASRelease()
		if err != nil || applied {
			return err
		}
		// Someone inserted in between: compare again.
	}
	return fmt.Errorf("projection: lwt upsert %s/%s: no progress", p.LocationID, p.SKU)
}

// GetLWT reads from the benchmark's table.
func (s *Store) GetLWT(ctx context.Context, loc, sku string) (sellable.Position, error) {
	var r row
	err := s.session.ContextQuery(ctx, "SELECT * FROM sellable_lwt WHERE location = ? AND sku = ?", nil).
		Bind(loc, sku).GetRelease(&r)
	return r.position(), err
}

// UpsertV1 writes p as version 1 of the schema did: without on_hand and
// sellable, and not into sellable_by_sku.
func (s *Store) UpsertV1(ctx context.Context, p sellable.Position) error {
	return s.session.ContextQuery(ctx,
		"INSERT INTO sellable (location, sku, count, adjusted, reserved, seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?", nil).
		Bind(p.LocationID, p.SKU, p.Count, p.OnHand, p.Reserved, int64(p.Seq), p.UpdatedAt, int64(p.Seq)).ExecRelease()
}
