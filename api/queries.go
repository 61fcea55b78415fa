package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/queries"
	"github.com/sellable/inventory/sellable"
)

// Reader reads one position of the view once it reflects a sequence;
// with minSeq 0, as it is (query.Reader).
type Reader interface {
	GetAtLeast(ctx context.Context, locationID, sku string, minSeq uint64, wait time.Duration) (sellable.Position, error)
}

// Answers serves a position's answer as AppendPosition writes it,
// from memory where it can (readmodel.Model), with the sequence the
// answer reflects the position up to. A position never stored is
// sellable.ErrNotFound.
type Answers interface {
	Answer(ctx context.Context, locationID, sku string) (body []byte, seq uint64, err error)
}

// QueryOption changes how RegisterQueries serves.
type QueryOption func(*queryServer)

// WithAnswers serves the point query from a, falling back to the Reader
// only when a's answer is older than the minSeq asked for.
func WithAnswers(a Answers) QueryOption {
	return func(s *queryServer) { s.a = a }
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

// RegisterQueries mounts the operations tagged queries in openapi.yaml
// through their generated server (gen/queries): the point query
// GET /inventory/locations/{location}/skus/{sku}?minSeq=&wait=, its
// history .../history?limit=&before= and a SKU's availability
// GET /inventory/skus/{sku}?location=.
func RegisterQueries(e *echo.Echo, r Reader, h Historian, sr SKUReader, opts ...QueryOption) {
	qs := queryServer{r: r, h: h, s: sr}
	for _, o := range opts {
		o(&qs)
	}
	mw := withValidation("queries", nil)
	mw["getPosition"] = []echo.MiddlewareFunc{checkPosition()}
	queries.RegisterHandlersWithOptions(e, qs, queries.RegisterHandlersOptions{
		OperationMiddlewares: mw,
	})
}

// queryServer implements the generated queries.ServerInterface. The
// generated wrapper hands over the path parameters URL-decoded; the
// query parameters are read again by hand (freshness, queryValue) so
// that a given-but-empty value is refused rather than read as absent.
type queryServer struct {
	r Reader
	h Historian
	s SKUReader
	// a, when set, answers the point query first (WithAnswers).
	a Answers
}

var _ queries.ServerInterface = queryServer{}

func (s queryServer) GetPosition(c echo.Context, location queries.Location, sku queries.ID, _ queries.GetPositionParams) error {
	minSeq, wait, err := freshness(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if s.a != nil {
		// From memory unless the answer there is older than minSeq: then
		// the Reader, which waits for the view and knows whether the
		// key has anything at or before minSeq at all.
		body, seq, err := s.a.Answer(ctx, location, sku)
		if err == nil && seq >= minSeq {
			return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
		}
		if minSeq == 0 {
			return err
		}
	}
	pos, err := s.r.GetAtLeast(ctx, location, sku, minSeq, wait)
	var behind *sellable.BehindError
	if errors.As(err, &behind) {
		c.Response().Header().Set(ViewSeqHeader, strconv.FormatUint(behind.Seq, 10))
	}
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, PositionAnswer(pos))
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
