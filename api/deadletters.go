package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/sellable"
)

// DeadLetterLister pages through the dead letters, newest first.
type DeadLetterLister interface {
	List(ctx context.Context, before uint64, limit int) ([]feed.DeadLetter, uint64, error)
}

// DefaultDeadLetterLimit is the page size when the request names none.
const DefaultDeadLetterLimit = 20

// DeadLetterResponse is one dead letter as served. The body is text when
// it is UTF-8 (JSON, usually) and omitted otherwise (Avro): the reason
// and the original subject and sequence are what an operator acts on.
type DeadLetterResponse struct {
	Seq       uint64              `json:"seq"`
	Partition int                 `json:"partition"`
	StoredAt  string              `json:"storedAt"`
	Reason    string              `json:"reason"`
	Subject   string              `json:"subject"`
	OrigSeq   uint64              `json:"originalSeq"`
	Body      string              `json:"body,omitempty"`
	BodyBytes int                 `json:"bodyBytes"`
	Truncated string              `json:"truncated,omitempty"`
	Headers   map[string][]string `json:"headers"`
}

// DeadLettersResponse is one page of dead letters; Next is the before of
// the next page, 0 after the last.
type DeadLettersResponse struct {
	Items []DeadLetterResponse `json:"items"`
	Next  uint64               `json:"next"`
}

// deadLettersHandler answers GET /inventory/deadletters?before=&limit=,
// read-only: replaying one is a deliberate act (inventoryctl dlq replay).
func deadLettersHandler(l DeadLetterLister) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := DefaultDeadLetterLimit
		if s := c.QueryParam("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return &sellable.FieldError{Field: "limit", Err: errors.New("must be an integer")}
			}
			limit = n
		}
		var before uint64
		if s := c.QueryParam("before"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return &sellable.FieldError{Field: "before", Err: errors.New("must be a sequence (a non-negative integer)")}
			}
			before = n
		}
		items, next, err := l.List(c.Request().Context(), before, limit)
		if err != nil {
			return err
		}
		out := DeadLettersResponse{Items: make([]DeadLetterResponse, len(items)), Next: next}
		for i, d := range items {
			r := DeadLetterResponse{
				Seq: d.Seq, Partition: d.Partition, StoredAt: d.StoredAt.UTC().Format(TimeFormat),
				Reason: d.Reason, Subject: d.Subject, OrigSeq: d.OrigSeq,
				BodyBytes: len(d.Body), Truncated: d.Truncated, Headers: d.Headers,
			}
			if utf8.Valid(d.Body) {
				r.Body = string(d.Body)
			}
			if r.Headers == nil {
				r.Headers = map[string][]string{}
			}
			out.Items[i] = r
		}
		return c.JSON(http.StatusOK, out)
	}
}
