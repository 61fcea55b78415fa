package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/sellable/inventory/wire"
)

// Local is a wire.SchemaRegistry on a Store in the same process (the
// all-in-one and every program that opens the registry bucket itself): no
// HTTP hop, same bucket, same ids. It lives here rather than in wire
// because the Store already imports wire (for SchemaBounds and the
// embedded schemas); it translates the Store's errors into the ones the
// codecs act on.
type Local struct {
	Store *Store
}

// Register adds schema to subject, or finds it there, and returns its id.
func (r Local) Register(ctx context.Context, subject, schema string) (int, error) {
	sv, err := r.Store.Register(ctx, subject, schema)
	if errors.Is(err, ErrIncompatible) || errors.Is(err, ErrInvalidSchema) || errors.Is(err, ErrInvalidSubject) {
		return 0, fmt.Errorf("%w: %w", wire.ErrSchemaRejected, err)
	}
	if err != nil {
		return 0, err
	}
	return sv.ID, nil
}

// SchemaByID returns the schema with id.
func (r Local) SchemaByID(ctx context.Context, id int) (string, error) {
	s, err := r.Store.SchemaByID(ctx, id)
	if errors.Is(err, ErrSchemaNotFound) {
		return "", fmt.Errorf("%w: %w", wire.ErrSchemaNotFound, err)
	}
	return s, err
}
