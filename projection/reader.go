package projection

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync/atomic"

	"github.com/gocql/gocql"

	"github.com/sellable/inventory/sellable"
)

// List limits.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

var (
	listStmt, listNames = sellableTable.Select()
	errNotConnected     = fmt.Errorf("projection: not connected: %w", sellable.ErrUnavailable)
)

// List returns up to limit positions of one location in SKU order,
// starting where pageToken (empty for the first page) says, and the token
// of the next page, empty after the last. A page may come back short, or
// empty at the end, as the database's paging decides.
func (s *Store) List(ctx context.Context, locationID, pageToken string, limit int) ([]sellable.Position, string, error) {
	if err := sellable.ValidateID(locationID); err != nil {
		return nil, "", &sellable.FieldError{Field: "locationId", Err: err}
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, "", &sellable.FieldError{Field: "limit", Err: fmt.Errorf("must be between 1 and %d", MaxListLimit)}
	}
	state, err := decodeToken(locationID, pageToken)
	if err != nil {
		return nil, "", &sellable.FieldError{Field: "pageToken", Err: err}
	}
	// Setting the page state, even to nil, turns off the driver's
	// automatic paging: one request, one page.
	iter := s.session.ContextQuery(ctx, listStmt, listNames).
		Bind(locationID).PageSize(limit).PageState(state).Iter()
	next := iter.PageState()
	items := make([]sellable.Position, 0, iter.NumRows())
	var r row
	for iter.StructScan(&r) {
		items = append(items, r.position())
	}
	if err := iter.Close(); err != nil {
		var re gocql.RequestError
		if len(state) > 0 && errors.As(err, &re) && re.Code() == gocql.ErrCodeProtocol {
			// Cassandra and Scylla answer a forged paging state so.
			return nil, "", &sellable.FieldError{Field: "pageToken", Err: ErrBadPageToken}
		}
		return nil, "", fmt.Errorf("projection: list %s: %w", locationID, unavailable(err))
	}
	return items, encodeToken(locationID, next), nil
}

// A page token is the driver's paging state and a checksum over it and
// the location, so that a mangled token, or one from another location's
// listing, is refused as bad input rather than resumed somewhere odd. It
// is not a secret: the state only says where in this location to resume.
func encodeToken(locationID string, state []byte) string {
	if len(state) == 0 {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint32(state, tokenSum(locationID, state)))
}

func decodeToken(locationID, token string) ([]byte, error) {
	if token == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= 4 {
		return nil, ErrBadPageToken
	}
	state, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if sum != tokenSum(locationID, state) {
		return nil, ErrBadPageToken
	}
	return state, nil
}

func tokenSum(locationID string, state []byte) uint32 {
	h := crc32.NewIEEE()
	_, _ = h.Write([]byte(locationID))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(state)
	return h.Sum32()
}

// Reader serves positions and listings from the projection. It answers
// sellable.ErrUnavailable while it has no session, so a query service can
// listen before the database is up.
type Reader struct {
	store *atomic.Pointer[Store]
}

// NewReader reads through s.
func NewReader(s *Store) *Reader {
	r := &Reader{store: new(atomic.Pointer[Store])}
	r.store.Store(s)
	return r
}

// Get reads one position: sellable.ErrNotFound when no change reached it.
func (r *Reader) Get(ctx context.Context, locationID, sku string) (sellable.Position, error) {
	s := r.store.Load()
	if s == nil {
		return sellable.Position{}, errNotConnected
	}
	return s.Get(ctx, locationID, sku)
}

// List is Store.List.
func (r *Reader) List(ctx context.Context, locationID, pageToken string, limit int) ([]sellable.Position, string, error) {
	s := r.store.Load()
	if s == nil {
		return nil, "", errNotConnected
	}
	return s.List(ctx, locationID, pageToken, limit)
}

// BySKU is Store.BySKU.
func (r *Reader) BySKU(ctx context.Context, sku string, locations []string) ([]sellable.Position, error) {
	s := r.store.Load()
	if s == nil {
		return nil, errNotConnected
	}
	return s.BySKU(ctx, sku, locations)
}
