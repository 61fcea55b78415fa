package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Reader reads one position of the view, now or once it reflects a
// sequence (query.Reader).
type Reader interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
	GetAtLeast(ctx context.Context, locationID, sku string, minSeq uint64, wait time.Duration) (sellable.Position, error)
}

// Read-your-writes parameters of the point query.
const (
	// MinSeqHeader is the header alternative to ?minSeq=, for clients
	// that add it to every request.
	MinSeqHeader = "Inventory-Min-Seq"
	// ViewSeqHeader, on a 504, is the sequence the view reflects the
	// position up to.
	ViewSeqHeader = "Inventory-View-Seq"
	// DefaultWait and MaxWait bound ?wait=.
	DefaultWait = 2 * time.Second
	MaxWait     = 10 * time.Second
)

// RegisterQueries mounts GET /inventory/locations/{location}/skus/{sku}
// ?minSeq=&wait=.
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
		minSeq, wait, err := freshness(c)
		if err != nil {
			return err
		}
		pos, err := r.GetAtLeast(c.Request().Context(), loc, sku, minSeq, wait)
		var behind *sellable.BehindError
		if errors.As(err, &behind) {
			c.Response().Header().Set(ViewSeqHeader, strconv.FormatUint(behind.Seq, 10))
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, positionResponse(pos))
	})
}

// freshness reads ?minSeq=, the Inventory-Min-Seq header and ?wait=.
// When both name a sequence the higher one holds: satisfying it
// satisfies both.
func freshness(c echo.Context) (uint64, time.Duration, error) {
	q, err := seqParam(c.QueryParam("minSeq"), "minSeq")
	if err != nil {
		return 0, 0, err
	}
	h, err := seqParam(c.Request().Header.Get(MinSeqHeader), MinSeqHeader)
	if err != nil {
		return 0, 0, err
	}
	wait := DefaultWait
	if s := c.QueryParam("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > MaxWait {
			return 0, 0, &sellable.FieldError{Field: "wait", Err: fmt.Errorf("must be a duration from 0s to %v, such as 500ms or 2s", MaxWait)}
		}
		wait = d
	}
	return max(q, h), wait, nil
}

// errSeqSyntax is a sequence that is not a decimal integer.
var errSeqSyntax = errors.New("must be a non-negative decimal integer, an event sequence")

func seqParam(s, field string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if s[0] == '+' || (len(s) > 1 && s[0] == '0') {
		return 0, &sellable.FieldError{Field: field, Err: errSeqSyntax}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, &sellable.FieldError{Field: field, Err: errSeqSyntax}
	}
	return v, nil
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
