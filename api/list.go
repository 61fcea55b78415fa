package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/listing"
	"github.com/sellable/inventory/sellable"
)

// Lister pages through the positions of one location.
type Lister interface {
	List(ctx context.Context, locationID, pageToken string, limit int) ([]sellable.Position, string, error)
}

// DefaultListLimit is the page size when the request names none.
const DefaultListLimit = 100

// ListResponse is one page of a location's positions. NextPageToken is
// empty after the last page.
type ListResponse struct {
	LocationID    string             `json:"locationId"`
	Items         []PositionResponse `json:"items"`
	NextPageToken string             `json:"nextPageToken"`
}

// RegisterList mounts the operations tagged listing in openapi.yaml
// through their generated server (gen/listing):
// GET /inventory/locations/{location}/skus?pageToken=&limit=.
func RegisterList(e *echo.Echo, l Lister) {
	listing.RegisterHandlersWithOptions(e, listServer{l}, listing.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("listing", nil),
	})
}

// listServer implements the generated listing.ServerInterface.
type listServer struct{ l Lister }

var _ listing.ServerInterface = listServer{}

func (s listServer) ListPositions(c echo.Context, location listing.Location, p listing.ListPositionsParams) error {
	limit := DefaultListLimit
	if p.Limit != nil {
		limit = *p.Limit
	}
	var token string
	if p.PageToken != nil {
		token = *p.PageToken
	}
	items, next, err := s.l.List(c.Request().Context(), location, token, limit)
	if err != nil {
		return err
	}
	out := make([]PositionResponse, len(items))
	for i, pos := range items {
		out[i] = positionResponse(pos)
	}
	return c.JSON(http.StatusOK, ListResponse{LocationID: location, Items: out, NextPageToken: next})
}
