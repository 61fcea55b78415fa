package kv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// scanTimeout bounds reading one SKU across every partition.
const scanTimeout = 10 * time.Second

// BySKU reads the positions of sku at every location that has one, in
// location order, or only at locations when it names some.
//
// Keys are "<loc>.<sku>" and a SKU's locations are spread over every
// partition, so it asks each bucket at once for the keys "*.<sku>": a KV
// watch, whose ordered consumer the server filters by subject, delivers
// the current values and ends. No index is kept: the cost is one
// consumer per bucket and the server's subject match over it (see
// BENCHMARKS.md for what that costs as buckets grow). With locations it
// reads exactly those keys instead.
func (s *Store) BySKU(ctx context.Context, sku string, locations []string) ([]sellable.Position, error) {
	if err := sellable.ValidateID(sku); err != nil {
		return nil, &sellable.FieldError{Field: "sku", Err: err}
	}
	for _, l := range locations {
		if err := sellable.ValidateID(l); err != nil {
			return nil, &sellable.FieldError{Field: "location", Err: err}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, scanTimeout)
	defer cancel()
	var out []sellable.Position
	if len(locations) > 0 {
		for _, l := range locations {
			p, err := s.Get(ctx, l, sku)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	} else {
		parts := make([][]sellable.Position, len(s.buckets))
		g, gctx := errgroup.WithContext(ctx)
		filter := "*." + streams.EncodeToken(sku)
		for i, b := range s.buckets {
			g.Go(func() (err error) {
				parts[i], err = scan(gctx, b, filter)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		out = slices.Concat(parts...)
	}
	slices.SortFunc(out, func(a, b sellable.Position) int { return strings.Compare(a.LocationID, b.LocationID) })
	return out, nil
}

// scan reads the current values of the keys of b matching filter.
func scan(ctx context.Context, b jetstream.KeyValue, filter string) ([]sellable.Position, error) {
	w, err := b.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("kv: scan %s %s: %w: %w", b.Bucket(), filter, sellable.ErrUnavailable, err)
	}
	defer func() { _ = w.Stop() }()
	var out []sellable.Position
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kv: scan %s %s: %w: %w", b.Bucket(), filter, sellable.ErrUnavailable, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, fmt.Errorf("kv: scan %s %s: %w: watch closed", b.Bucket(), filter, sellable.ErrUnavailable)
			}
			if e == nil { // every current value delivered
				return out, nil
			}
			p, err := DecodeValue(e.Value())
			if err != nil {
				return nil, fmt.Errorf("kv: decode %s: %w", e.Key(), err)
			}
			out = append(out, p)
		}
	}
}
