package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestPositionCheckAgreesWithTheDocument: the point query's hand-written
// parameter check (checkPosition) refuses exactly what validateOp, the
// document through kin-openapi, followed by the handler's own reading
// of minSeq, the header and wait, refuses, with the same status and
// field, and for path parameters the same words. If the check skipped a
// rule of the ID schema (length in characters, no control characters),
// the verdicts would differ.
func TestPositionCheckAgreesWithTheDocument(t *testing.T) {
	serve := func(mw echo.MiddlewareFunc) *echo.Echo {
		e := echo.New()
		e.HTTPErrorHandler = errorHandler(slog.New(slog.DiscardHandler))
		e.GET("/inventory/locations/:location/skus/:sku", func(c echo.Context) error {
			if _, _, err := freshness(c); err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		}, mw)
		return e
	}
	doc, hand := serve(validateOp("getPosition")), serve(checkPosition())
	path := func(loc, sku string) string {
		return "/inventory/locations/" + url.PathEscape(loc) + "/skus/" + url.PathEscape(sku)
	}
	cases := []struct {
		name, target, header string
		sameWords            bool
		status               int // the document's verdict
	}{
		{"plain", path("STL", "123123"), "", true, http.StatusNoContent},
		{"read your writes", path("STL", "1") + "?minSeq=5&wait=1.5s", "7", true, http.StatusNoContent},
		{"128 characters", path("STL", strings.Repeat("x", 128)), "", true, http.StatusNoContent},
		{"129 characters", path("STL", strings.Repeat("x", 129)), "", true, http.StatusBadRequest},
		{"128 two-byte characters", path(strings.Repeat("é", 128), "s"), "", true, http.StatusNoContent},
		{"129 two-byte characters", path(strings.Repeat("é", 129), "s"), "", true, http.StatusBadRequest},
		{"an escaped slash", path("a/b", "c d"), "", true, http.StatusNoContent},
		{"C0 in the location", path("S\x01L", "x"), "", true, http.StatusBadRequest},
		{"DEL in the SKU", path("STL", "x\x7f"), "", true, http.StatusBadRequest},
		{"C1 in the SKU", path("STL", "x\u0085"), "", true, http.StatusBadRequest},
		{"U+00A0 is no control", path("STL", "x\u00a0"), "", true, http.StatusNoContent},
		{"an empty SKU", "/inventory/locations/STL/skus/", "", true, http.StatusNotFound},
		{"minSeq not a number", path("STL", "1") + "?minSeq=abc", "", false, http.StatusBadRequest},
		{"minSeq negative", path("STL", "1") + "?minSeq=-1", "", false, http.StatusBadRequest},
		{"minSeq too large", path("STL", "1") + "?minSeq=9223372036854775808", "", false, http.StatusBadRequest},
		{"minSeq empty", path("STL", "1") + "?minSeq=", "", false, http.StatusBadRequest},
		{"minSeq with a plus", path("STL", "1") + "?minSeq=%2B1", "", false, http.StatusBadRequest},
		{"wait in microseconds", path("STL", "1") + "?minSeq=1&wait=5us", "", false, http.StatusBadRequest},
		{"wait too long", path("STL", "1") + "?minSeq=1&wait=11s", "", false, http.StatusBadRequest},
		{"header not a number", path("STL", "1"), "x", false, http.StatusBadRequest},
		// Neither check refuses it; the handler does, with the key
		// (sellable.ErrIDNotUTF8), after both.
		{"invalid UTF-8 in the SKU", "/inventory/locations/STL/skus/x%ff", "", false, http.StatusNoContent},
		{"a 64 KiB SKU", path("STL", strings.Repeat("x", 64<<10)), "", true, http.StatusBadRequest},
	}
	for _, c := range cases {
		run := func(e *echo.Echo) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, c.target, nil)
			if c.header != "" {
				req.Header.Set(MinSeqHeader, c.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		want, got := run(doc), run(hand)
		var wb, gb ErrorBody
		decode := func(rec *httptest.ResponseRecorder, b *ErrorBody) {
			if rec.Body.Len() > 0 {
				if err := json.Unmarshal(rec.Body.Bytes(), b); err != nil {
					t.Fatalf("%s: %q: %v", c.name, rec.Body, err)
				}
			}
		}
		decode(want, &wb)
		decode(got, &gb)
		if want.Code != c.status {
			t.Errorf("%s: the document answers %d %s, want %d", c.name, want.Code, want.Body, c.status)
		}
		if got.Code != want.Code || gb.Field != wb.Field || (c.sameWords && gb.Error != wb.Error) {
			t.Errorf("%s: hand check %d %+v, document %d %+v", c.name, got.Code, gb, want.Code, wb)
		}
	}
}
