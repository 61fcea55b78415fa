package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Reader reads one position of the view once it reflects a sequence;
// with minSeq 0, as it is (query.Reader).
type Reader interface {
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
	var q, h uint64
	var err error
	if s, ok := queryValue(c, "minSeq"); ok {
		if q, err = seqParam(s, "minSeq"); err != nil {
			return 0, 0, err
		}
	}
	if v := c.Request().Header.Values(MinSeqHeader); len(v) > 0 {
		if h, err = seqParam(v[0], MinSeqHeader); err != nil {
			return 0, 0, err
		}
	}
	wait := DefaultWait
	if s, ok := queryValue(c, "wait"); ok {
		d, err := time.ParseDuration(s)
		if !waitSyntax.MatchString(s) || err != nil || d > MaxWait {
			return 0, 0, &sellable.FieldError{Field: "wait", Err: fmt.Errorf("must be milliseconds or seconds from 0s to %v, such as 500ms or 2s", MaxWait)}
		}
		wait = d
	}
	return max(q, h), wait, nil
}

// waitSyntax is the spelling of wait that api/openapi.yaml documents:
// 0ms to 10000ms, or 0s to 10s with up to three decimals.
var waitSyntax = regexp.MustCompile(`^(?:(?:[0-9]{1,4}|10000)ms|[0-9](?:\.[0-9]{1,3})?s|10s)$`)

// errSeqSyntax is a sequence that is not a decimal integer.
var errSeqSyntax = errors.New("must be a decimal integer from 0 to 9223372036854775807, an event sequence")

// queryValue is a query parameter's first value, and whether it was
// given at all: "?wait=" is given, and empty, and so refused.
func queryValue(c echo.Context, name string) (string, bool) {
	v, ok := c.QueryParams()[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// seqParam reads a stream sequence. Sequences are int64 in the
// document (and in JetStream's practice); larger values are refused.
func seqParam(s, field string) (uint64, error) {
	if s == "" || s[0] == '+' || (len(s) > 1 && s[0] == '0') {
		return 0, &sellable.FieldError{Field: field, Err: errSeqSyntax}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > math.MaxInt64 {
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
