package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/sellable"
)

// ErrorBody is every error response: what went wrong and, for invalid
// input, which field.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// ErrorHandler is the house error handler, for a server built without
// NewServer.
func ErrorHandler(log *slog.Logger) echo.HTTPErrorHandler { return errorHandler(log) }

// errorHandler maps errors to status codes in one place. Internals are
// logged, never sent.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := classifyRequest(c, err)
		switch {
		case status == StatusClientClosedRequest:
			// Nobody is waiting for an answer: not an outage, and the
			// command may or may not be stored (a retry with the same
			// Idempotency-Key settles it).
			log.Debug("client canceled request", "method", c.Request().Method, "path", c.Path(), "err", err)
		case status == http.StatusGatewayTimeout:
			// A view behind a reader's minSeq: the reader retries, and the
			// calculator's own lag is what alerts.
			log.Debug("view behind", "method", c.Request().Method, "path", c.Path(), "err", err)
		case status == http.StatusServiceUnavailable: // expected during outages
			log.Warn("request failed", "method", c.Request().Method, "path", c.Path(), "status", status, "err", err)
		case status >= 500:
			log.Error("request failed", "method", c.Request().Method, "path", c.Path(), "status", status, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(status)
			return
		}
		_ = c.JSON(status, body)
	}
}

// StatusClientClosedRequest is nginx's 499: the client went away before
// the answer was ready. It is what the metrics record; no one reads it.
const StatusClientClosedRequest = 499

// classifyRequest is classify, except that a failure of ours (5xx) in a
// request whose own context was canceled (the client hung up) is a
// cancellation, whatever error the interrupted call returned on the way
// out (a publish that lost its context says "unavailable").
func classifyRequest(c echo.Context, err error) (int, ErrorBody) {
	status, body := classify(err)
	if status >= 500 && errors.Is(c.Request().Context().Err(), context.Canceled) {
		return StatusClientClosedRequest, ErrorBody{Error: "client closed request"}
	}
	return status, body
}

// generatedParamError matches the refusals of the generated wrappers
// (gen/*/server.gen.go), which bind parameters after validateOp has
// checked them; what validateOp lets through and they refuse (a header
// sent twice) still names its parameter.
var generatedParamError = regexp.MustCompile(`^(?:Invalid format for parameter|Expected one value for|Query argument|Header parameter) ([^\s:,]+)`)

func classify(err error) (int, ErrorBody) {
	var fe *sellable.FieldError
	var he *echo.HTTPError
	var behind *sellable.BehindError
	switch {
	case errors.As(err, &fe):
		return statusOf(fe), ErrorBody{Error: fe.Err.Error(), Field: fe.Field}
	case errors.Is(err, sellable.ErrIdempotencyConflict):
		return http.StatusUnprocessableEntity, ErrorBody{
			Error: IdempotencyHeader + " was already used for a different request (another endpoint or body); nothing was stored, send it with a new key",
			Field: IdempotencyHeader,
		}
	case errors.As(err, &behind):
		return http.StatusGatewayTimeout, ErrorBody{Error: fmt.Sprintf(
			"the view reflects this position up to seq %d and did not reach seq %d in time; retry, or wait longer (wait, at most %v)",
			behind.Seq, behind.MinSeq, MaxWait)}
	case errors.Is(err, sellable.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Error: "no events recorded for this location and SKU"}
	case errors.Is(err, feed.ErrTooManySubscribers):
		return http.StatusServiceUnavailable, ErrorBody{Error: "too many feed subscribers on this instance, retry later or elsewhere"}
	case errors.Is(err, sellable.ErrUnavailable):
		return http.StatusServiceUnavailable, ErrorBody{Error: "inventory store unavailable, retry later"}
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		var field string
		if m := generatedParamError.FindStringSubmatch(msg); he.Code == http.StatusBadRequest && m != nil {
			field = fieldOf(m[1])
		}
		return he.Code, ErrorBody{Error: msg, Field: field}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal error"}
}
