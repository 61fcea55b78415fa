package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/queries"
	"github.com/sellable/inventory/sellable"
)

// Reader reads one position of the view.
type Reader interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// RegisterQueries mounts the operations tagged queries in openapi.yaml
// through their generated server (gen/queries):
// GET /inventory/locations/{location}/skus/{sku}.
func RegisterQueries(e *echo.Echo, r Reader) {
	queries.RegisterHandlersWithOptions(e, queryServer{r}, queries.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("queries", nil),
	})
}

// queryServer implements the generated queries.ServerInterface. The
// generated wrapper hands over the path parameters URL-decoded.
type queryServer struct{ r Reader }

var _ queries.ServerInterface = queryServer{}

func (s queryServer) GetPosition(c echo.Context, location queries.Location, sku queries.ID) error {
	pos, err := s.r.Get(c.Request().Context(), location, sku)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, positionResponse(pos))
}
