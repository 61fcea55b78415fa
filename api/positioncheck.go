package api

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// checkPosition stands in for validateOp on the point query, the
// hottest route: kin-openapi's ValidateRequest was 11 % of the server's
// CPU under GET load once the answer came from memory (BENCHMARKS.md,
// "Reads from memory"), to check two path parameters and three optional
// ones. It checks what the document declares for them, read from the
// document itself: each path parameter's length in characters and
// pattern (the ID schema), and minSeq, Inventory-Min-Seq and wait as
// freshness reads them (the handler's own, stricter, reading). A
// refusal names the same field as validateOp would, with kin-openapi's
// wording for the path parameters; TestPositionCheckAgreesWithTheDocument
// holds the two to the same verdicts.
func checkPosition() echo.MiddlewareFunc {
	rules := pathRules("getPosition")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			for i, name := range c.ParamNames() {
				v, err := unescapedParam(c, c.ParamValues()[i])
				if err == nil {
					if r, ok := rules[name]; ok {
						err = r.check(v)
					}
				}
				if err != nil {
					return &sellable.FieldError{Field: fieldOf(name), Err: err}
				}
			}
			if _, _, err := freshness(c); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// stringRule is a string schema's length bounds (in characters, as
// JSON Schema counts them) and pattern.
type stringRule struct {
	min     int
	max     int // -1: none
	pattern *regexp.Regexp
}

func (r stringRule) check(v string) error {
	n := utf8.RuneCountInString(v)
	switch {
	case n < r.min:
		return fmt.Errorf("minimum string length is %d", r.min)
	case r.max >= 0 && n > r.max:
		return fmt.Errorf("maximum string length is %d", r.max)
	case r.pattern != nil && !r.pattern.MatchString(v):
		return fmt.Errorf(`string doesn't match the regular expression "%s"`, r.pattern.String())
	}
	return nil
}

// pathRules are the string rules of operation opID's path parameters in
// the document.
func pathRules(opID string) map[string]stringRule {
	route := documentRoute(opID)
	rules := map[string]stringRule{}
	for _, ref := range route.Operation.Parameters {
		p := ref.Value
		if p == nil || p.In != "path" || p.Schema == nil || p.Schema.Value == nil {
			continue
		}
		s := p.Schema.Value
		if !s.Type.Is("string") {
			panic(errors.New("api: path parameter " + p.Name + " of " + opID + " is not a string"))
		}
		r := stringRule{min: int(s.MinLength), max: -1}
		if s.MaxLength != nil {
			r.max = int(*s.MaxLength)
		}
		if s.Pattern != "" {
			r.pattern = regexp.MustCompile(s.Pattern)
		}
		rules[p.Name] = r
	}
	return rules
}
