package api

import (
	"errors"
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// commandCheck stands in for validateOp on the command routes, as
// checkPosition does on the point query: kin-openapi's ValidateRequest
// was 13 of a single POST's ~55 allocations in the server and about
// 2 µs of its CPU (BENCHMARKS.md, "Where a single command's CPU goes"),
// to check one optional header and the body's media type. It checks what
// the document declares for operation opID, read from the document: the
// media type (checkMediaType, as validateOp) and each header parameter's
// length in characters and pattern. An operation of the document with a
// parameter that is not an optional string header panics here, at
// registration, rather than go unchecked (the check would need that rule
// first). A refusal names the same field with the same words as
// validateOp; TestCommandCheckAgreesWithTheDocument holds the two to the
// same verdicts.
func commandCheck(opID string) echo.MiddlewareFunc {
	route := documentRoute(opID)
	headers := headerRules(opID)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if err := checkMediaType(route.Operation, req.Header.Get(echo.HeaderContentType)); err != nil {
				return err
			}
			for _, h := range headers {
				// kin-openapi reads a header's first value, and an empty
				// one as absent.
				if v := req.Header.Get(h.name); v != "" {
					if err := h.rule.check(v); err != nil {
						return &sellable.FieldError{Field: h.name, Err: err}
					}
				}
			}
			return next(c)
		}
	}
}

// headerRule is a header parameter's canonical name and string rule.
type headerRule struct {
	name string
	rule stringRule
}

// headerRules are the rules of operation opID's parameters, which must
// all be optional string headers.
func headerRules(opID string) []headerRule {
	route := documentRoute(opID)
	if len(route.PathItem.Parameters) > 0 {
		panic(errors.New("api: commandCheck: the path of " + opID + " has parameters"))
	}
	var out []headerRule
	for _, ref := range route.Operation.Parameters {
		p := ref.Value
		if p == nil || p.In != "header" || p.Required || p.Schema == nil || p.Schema.Value == nil || !p.Schema.Value.Type.Is("string") {
			panic(errors.New("api: commandCheck: operation " + opID + " has a parameter other than an optional string header"))
		}
		s := p.Schema.Value
		r := stringRule{min: int(s.MinLength), max: -1}
		if s.MaxLength != nil {
			r.max = int(*s.MaxLength)
		}
		if s.Pattern != "" {
			r.pattern = regexp.MustCompile(s.Pattern)
		}
		out = append(out, headerRule{name: http.CanonicalHeaderKey(p.Name), rule: r})
	}
	return out
}
