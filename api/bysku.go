package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/queries"

	"github.com/sellable/inventory/sellable"
)

// SKUReader reads one SKU's positions across locations (kv.Store,
// projection.Reader).
type SKUReader interface {
	BySKU(ctx context.Context, sku string, locations []string) ([]sellable.Position, error)
}

// MaxLocationFilter bounds the location filter of GET /inventory/skus/{sku}.
const MaxLocationFilter = 100

// SKULocation is one location's position of a SKU.
type SKULocation struct {
	LocationID string `json:"locationId"`
	OnHand     int64  `json:"onHand"`
	Reserved   int64  `json:"reserved"`
	Sellable   int64  `json:"sellable"`
	Seq        uint64 `json:"seq"`
	UpdatedAt  string `json:"updatedAt"`
}

// Totals sums a SKU's positions.
type Totals struct {
	OnHand   int64 `json:"onHand"`
	Reserved int64 `json:"reserved"`
	Sellable int64 `json:"sellable"`
}

// SKUResponse is a SKU's availability: every location that has it (or
// those asked for), and the sums over them.
type SKUResponse struct {
	SKU       string        `json:"sku"`
	Locations []SKULocation `json:"locations"`
	Totals    Totals        `json:"totals"`
}

// GetSKUAvailability answers GET /inventory/skus/{sku}?location=&location=.
func (s queryServer) GetSKUAvailability(c echo.Context, sku queries.ID, _ queries.GetSKUAvailabilityParams) error {
	{
		locs := c.QueryParams()["location"]
		if len(locs) > MaxLocationFilter {
			return &sellable.FieldError{Field: "location", Err: fmt.Errorf("at most %d locations", MaxLocationFilter)}
		}
		slices.Sort(locs)
		locs = slices.Compact(locs)
		ps, err := s.s.BySKU(c.Request().Context(), sku, locs)
		if err != nil {
			return err
		}
		out := SKUResponse{SKU: sku, Locations: make([]SKULocation, len(ps))}
		for i, p := range ps {
			out.Locations[i] = SKULocation{
				LocationID: p.LocationID, OnHand: p.OnHand, Reserved: p.Reserved, Sellable: p.Count,
				Seq: p.Seq, UpdatedAt: formatTime(p.UpdatedAt),
			}
			out.Totals.OnHand += p.OnHand
			out.Totals.Reserved += p.Reserved
			out.Totals.Sellable += p.Count
		}
		return c.JSON(http.StatusOK, out)
	}
}
