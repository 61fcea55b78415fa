package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestCommandCheckAgreesWithTheDocument: the command routes' hand check
// (commandCheck) refuses exactly what validateOp, the document through
// kin-openapi, refuses, with the same status, field and words, for every
// operation tagged commands. If the check skipped the header's length in
// characters or the media type, the verdicts would differ.
func TestCommandCheckAgreesWithTheDocument(t *testing.T) {
	serve := func(mw echo.MiddlewareFunc) *echo.Echo {
		e := echo.New()
		e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
		e.POST("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, mw)
		return e
	}
	type check struct {
		name        string
		contentType []string
		key         []string
		status      int // the document's verdict
	}
	// limit is the Idempotency-Key's maxLength of each operation.
	limit := map[string]int{"adjust": 128, "reserve": 128, "batch": 100}
	cases := func(op string) []check {
		n := limit[op]
		return []check{
			{"plain", []string{"application/json"}, nil, http.StatusNoContent},
			{"no content type", nil, nil, http.StatusNoContent},
			{"a charset", []string{"application/json; charset=utf-8"}, nil, http.StatusNoContent},
			{"upper case", []string{"Application/JSON"}, nil, http.StatusNoContent},
			{"text", []string{"text/plain"}, nil, http.StatusUnsupportedMediaType},
			{"json with a suffix", []string{"application/json-seq"}, nil, http.StatusUnsupportedMediaType},
			{"not a media type", []string{";;"}, nil, http.StatusUnsupportedMediaType},
			{"empty content type", []string{""}, nil, http.StatusNoContent},
			{"a key", []string{"application/json"}, []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, http.StatusNoContent},
			{"an empty key", []string{"application/json"}, []string{""}, http.StatusNoContent},
			{"a key at the limit", []string{"application/json"}, []string{strings.Repeat("k", n)}, http.StatusNoContent},
			{"a key over the limit", []string{"application/json"}, []string{strings.Repeat("k", n+1)}, http.StatusBadRequest},
			{"two-byte characters at the limit", []string{"application/json"}, []string{strings.Repeat("é", n)}, http.StatusNoContent},
			{"two-byte characters over the limit", []string{"application/json"}, []string{strings.Repeat("é", n+1)}, http.StatusBadRequest},
			{"two keys, the first too long", []string{"application/json"}, []string{strings.Repeat("k", n+1), "k"}, http.StatusBadRequest},
			{"two keys, the second too long", []string{"application/json"}, []string{"k", strings.Repeat("k", n+1)}, http.StatusNoContent},
			{"a bad key and a bad type", []string{"text/plain"}, []string{strings.Repeat("k", n+1)}, http.StatusUnsupportedMediaType},
		}
	}
	for _, op := range []string{"adjust", "reserve", "batch"} {
		doc, hand := serve(validateOp(op)), serve(commandCheck(op))
		for _, c := range cases(op) {
			run := func(e *echo.Echo) *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("{}"))
				for _, v := range c.contentType {
					req.Header.Add(echo.HeaderContentType, v)
				}
				for _, v := range c.key {
					req.Header.Add(IdempotencyHeader, v)
				}
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				return rec
			}
			want, got := run(doc), run(hand)
			var wb, gb ErrorBody
			for _, r := range []struct {
				rec *httptest.ResponseRecorder
				b   *ErrorBody
			}{{want, &wb}, {got, &gb}} {
				if r.rec.Body.Len() > 0 {
					if err := json.Unmarshal(r.rec.Body.Bytes(), r.b); err != nil {
						t.Fatalf("%s %s: %q: %v", op, c.name, r.rec.Body, err)
					}
				}
			}
			if want.Code != c.status {
				t.Errorf("%s %s: the document answers %d %s, want %d", op, c.name, want.Code, want.Body, c.status)
			}
			if got.Code != want.Code || gb != wb {
				t.Errorf("%s %s: hand check %d %+v, document %d %+v", op, c.name, got.Code, gb, want.Code, wb)
			}
		}
	}
}
