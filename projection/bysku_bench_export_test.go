package projection

import (
	"context"
	"errors"
	"fmt"

	"github.com/gocql/gocql"

	"github.com/sellable/inventory/sellable"
)

// fillSKUStmt is upsertSKUStmt with positional markers, in the order
// FillSKU binds them, for a batch (gocql's batches take no names).
const fillSKUStmt = `INSERT INTO sellable_by_sku (sku, location, on_hand, reserved, sellable, seq, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TIMESTAMP ?`

// FillSKU writes one SKU's positions into sellable_by_sku only, as one
// unlogged batch: every row is in the SKU's partition, so the batch is a
// single mutation of one partition (no batchlog, one commitlog entry),
// which fills the large benchmark shape in minutes where one Upsert per
// row into both tables takes hours. Benchmarks only: the projector
// writes through Upsert.
func (s *Store) FillSKU(ctx context.Context, sku string, ps []sellable.Position) error {
	b := s.session.Session.NewBatch(gocql.UnloggedBatch).WithContext(ctx)
	for _, p := range ps {
		if p.SKU != sku {
			return fmt.Errorf("projection: fill %s: position of %s", sku, p.SKU)
		}
		r := toSKURow(p)
		b.Query(fillSKUStmt, r.SKU, r.Location, r.OnHand, r.Reserved, r.Sellable, r.Seq, r.UpdatedAt, r.Seq)
	}
	if err := s.session.ExecuteBatch(b); err != nil {
		return fmt.Errorf("projection: fill %s: %w", sku, unavailable(err))
	}
	return nil
}

// CompactionsRunning counts the compactions (and other SSTable tasks)
// under way in keyspace, from Cassandra's system_views.sstable_tasks;
// ok is false on a server without that view (Scylla).
func (s *Store) CompactionsRunning(ctx context.Context, keyspace string) (n int, ok bool, err error) {
	it := s.session.Session.Query("SELECT keyspace_name FROM system_views.sstable_tasks").WithContext(ctx).Iter()
	var ks string
	for it.Scan(&ks) {
		if ks == keyspace {
			n++
		}
	}
	if err := it.Close(); err != nil {
		var re gocql.RequestError
		if errors.As(err, &re) && re.Code() == gocql.ErrCodeInvalid {
			return 0, false, nil
		}
		return 0, false, err
	}
	return n, true, nil
}
