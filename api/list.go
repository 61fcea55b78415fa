package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

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

// RegisterList mounts GET /inventory/locations/{location}/skus
// ?pageToken=&limit=.
func RegisterList(e *echo.Echo, l Lister) {
	e.GET("/inventory/locations/:location/skus", func(c echo.Context) error {
		loc, err := pathParam(c, "location", "locationId")
		if err != nil {
			return err
		}
		// A limit given empty (?limit=) is not a number either: only an
		// absent one means the default, as the document says.
		limit := DefaultListLimit
		if v, given := c.QueryParams()["limit"]; given {
			if limit, err = strconv.Atoi(v[0]); err != nil {
				return &sellable.FieldError{Field: "limit", Err: errors.New("must be an integer")}
			}
		}
		items, next, err := l.List(c.Request().Context(), loc, c.QueryParam("pageToken"), limit)
		if err != nil {
			return err
		}
		out := make([]PositionResponse, len(items))
		for i, p := range items {
			out[i] = positionResponse(p)
		}
		return c.JSON(http.StatusOK, ListResponse{LocationID: loc, Items: out, NextPageToken: next})
	})
}
