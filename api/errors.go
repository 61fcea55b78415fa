package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// ErrorBody is every error response: what went wrong and, for invalid
// input, which field.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// errorHandler maps errors to status codes in one place. Internals are
// logged, never sent.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := classify(err)
		switch {
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

func classify(err error) (int, ErrorBody) {
	var fe *sellable.FieldError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest, ErrorBody{Error: fe.Err.Error(), Field: fe.Field}
	case errors.Is(err, sellable.ErrIdempotencyConflict):
		return http.StatusUnprocessableEntity, ErrorBody{
			Error: IdempotencyHeader + " was already used for a different request (another endpoint or body); nothing was stored, send it with a new key",
			Field: IdempotencyHeader,
		}
	case errors.Is(err, sellable.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Error: "no events recorded for this location and SKU"}
	case errors.Is(err, sellable.ErrUnavailable):
		return http.StatusServiceUnavailable, ErrorBody{Error: "inventory store unavailable, retry later"}
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		return he.Code, ErrorBody{Error: msg}
	}
	return http.StatusInternalServerError, ErrorBody{Error: "internal error"}
}
