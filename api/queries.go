package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Reader reads one position of the view.
type Reader interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// RegisterQueries mounts GET /inventory/locations/{location}/skus/{sku}.
func RegisterQueries(e *echo.Echo, r Reader) {
	e.GET("/inventory/locations/:location/skus/:sku", func(c echo.Context) error {
		loc, err := pathParam(c, "location", "locationId")
		if err != nil {
			return err
		}
		sku, err := pathParam(c, "sku", "sku")
		if err != nil {
			return err
		}
		pos, err := r.Get(c.Request().Context(), loc, sku)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, positionResponse(pos))
	})
}

// pathParam returns a path segment URL-decoded. Echo routes on the raw
// path when the request has escapes that matter (%2F), and then leaves
// them in the parameter.
func pathParam(c echo.Context, name, field string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", &sellable.FieldError{Field: field, Err: err}
	}
	return u, nil
}
