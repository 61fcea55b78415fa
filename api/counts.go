package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/counts"

	"github.com/sellable/inventory/sellable"
)

// Counter records stock counts.
type Counter interface {
	Count(ctx context.Context, c sellable.StockCount) (sellable.CountResult, error)
}

// RegisterCounts mounts POST /inventory/counts.
func RegisterCounts(e *echo.Echo, c Counter) {
	counts.RegisterHandlersWithOptions(e, countServer{c}, counts.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("counts", map[string][]echo.MiddlewareFunc{
			"count": {limitBody(MaxBodyBytes)},
		}),
	})
}

// countServer implements the generated counts.ServerInterface; the body
// is decoded by hand, as the commands'.
type countServer struct{ c Counter }

var _ counts.ServerInterface = countServer{}

func (s countServer) Count(c echo.Context) error { return countHandler(s.c)(c) }

// CountResponse says what a stock count did: the on-hand it was decided
// on, the adjustment appended (0 and appended false when on-hand already
// was onHand) and where it was stored.
type CountResponse struct {
	LocationID     string `json:"locationId"`
	SKU            string `json:"sku"`
	OnHand         int64  `json:"onHand"`
	PreviousOnHand int64  `json:"previousOnHand"`
	Adjustment     int64  `json:"adjustment"`
	Appended       bool   `json:"appended"`
	Stream         string `json:"stream"`
	Seq            uint64 `json:"seq"`
	Partition      int    `json:"partition"`
}

// CountConflictBody is the 409 of a compare-and-set count: ErrorBody
// with the on-hand that was found, so the client can count again.
type CountConflictBody struct {
	Error  string `json:"error"`
	Field  string `json:"field"`
	OnHand int64  `json:"onHand"`
}

func countHandler(ctr Counter) echo.HandlerFunc {
	return func(c echo.Context) error {
		cmd, err := decodeCount(c.Request().Body)
		if err != nil {
			return err
		}
		if err := cmd.Validate(); err != nil {
			return err
		}
		res, err := ctr.Count(c.Request().Context(), cmd)
		var mismatch *sellable.OnHandMismatch
		if errors.As(err, &mismatch) {
			return c.JSON(http.StatusConflict, CountConflictBody{Error: mismatch.Error(), Field: "expectedOnHand", OnHand: mismatch.Current})
		}
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if res.Adjustment == 0 {
			status = http.StatusOK
		}
		return c.JSON(status, CountResponse{
			LocationID: cmd.Key.LocationID, SKU: cmd.Key.SKU,
			OnHand: cmd.OnHand, PreviousOnHand: res.Previous, Adjustment: res.Adjustment, Appended: res.Adjustment != 0,
			Stream: res.Receipt.Stream, Seq: res.Receipt.Seq, Partition: res.Receipt.Partition,
		})
	}
}

// countFields are the members a count body may have.
var countFields = map[string]bool{"locationId": true, "sku": true, "onHand": true, "expectedOnHand": true}

// decodeCount reads {"locationId","sku","onHand","expectedOnHand"?}
// strictly, naming the field of any error; unknown fields are refused.
func decodeCount(body io.Reader) (sellable.StockCount, error) {
	var cmd sellable.StockCount
	data, err := readBody(body)
	if err != nil {
		return cmd, err
	}
	fields, err := readObject(data, "")
	if errors.Is(err, errNotObject) {
		return cmd, &sellable.FieldError{Field: "body", Err: err}
	}
	if err != nil {
		return cmd, err
	}
	for name := range fields {
		if !countFields[name] {
			return cmd, unknownField("", name, errors.New("is not a field of a count"))
		}
	}
	if cmd.Key.LocationID, err = stringField(fields, "locationId"); err != nil {
		return cmd, err
	}
	if cmd.Key.SKU, err = stringField(fields, "sku"); err != nil {
		return cmd, err
	}
	onHand, err := quantityField(fields, "onHand")
	if err != nil {
		return cmd, err
	}
	if !onHand.Set {
		return cmd, &sellable.FieldError{Field: "onHand", Err: sellable.ErrMissingCount}
	}
	cmd.OnHand = onHand.Value
	expected, err := quantityField(fields, "expectedOnHand")
	if err != nil {
		return cmd, err
	}
	cmd.Expected, cmd.HasExpected = expected.Value, expected.Set
	return cmd, nil
}

// quantityField reads an optional integer (or string holding one).
func quantityField(fields map[string]json.RawMessage, name string) (sellable.Quantity, error) {
	var q sellable.Quantity
	raw, ok := fields[name]
	if !ok {
		return q, nil
	}
	// A field given as null is not a count: absent means "no value",
	// null is refused (Quantity alone would read it as absent).
	if err := json.Unmarshal(raw, &q); err != nil || !q.Set {
		return q, &sellable.FieldError{Field: name, Err: sellable.ErrCountSyntax}
	}
	return q, nil
}
