package api

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Validation uses kin-openapi's openapi3filter directly rather than
// oapi-codegen's Echo middleware (github.com/oapi-codegen/echo-middleware,
// which wraps the same call): that module is not served by the module
// proxy this project builds from, and knowing the operation from the
// generated registration spares the middleware's second routing of
// every request through a gorilla/mux router.
//
// documentOperations are the document's operations by operationId, parsed and
// validated once. The generated RegisterHandlers name each route's
// operationId, which is how validateOp finds the operation of a request
// without routing it a second time.
var documentOperations = sync.OnceValues(func() (map[string]*routers.Route, error) {
	doc, err := openapi3.NewLoader().LoadFromData(Spec)
	if err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	ops := map[string]*routers.Route{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[op.OperationID] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return ops, nil
})

// validateOptions leave out what the handlers own:
//
//   - Request bodies. The hand-written decoders (decode.go) already
//     refuse everything the body schemas do and more (duplicate keys,
//     invalid UTF-8, a count spelled two ways), name the field in the
//     house style (commands[3].count) and bound sizes while reading;
//     kin-openapi would decode each body a second time, which costs more
//     than the rest of the validation together (BENCHMARKS.md, "Request
//     validation"), and answer oneOf failures without a usable field.
//     The Content-Type of a body is checked here (checkMediaType).
//   - Authentication: not this middleware's job; a security requirement
//     the document may declare is enforced by the auth middleware.
var validateOptions = &openapi3filter.Options{
	ExcludeRequestBody: true,
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// paramField is the field an error names for a parameter whose name in
// the document differs from what the rest of the API calls it: a path's
// {location} is the commands' locationId.
var paramField = map[string]string{"location": "locationId"}

// validateOp checks a request against operation opID of the document with
// kin-openapi: path, query and header parameters and the body's media
// type. A refusal is a *sellable.FieldError naming the parameter (400),
// or a 415 naming Content-Type, so it reads like every other error.
func validateOp(opID string) echo.MiddlewareFunc {
	return validateWith(opID, validateOptions)
}

// validateWith is validateOp with kin-openapi's options (the benchmark
// measures what validating bodies would cost).
func validateWith(opID string, opts *openapi3filter.Options) echo.MiddlewareFunc {
	route := documentRoute(opID)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if err := checkMediaType(route.Operation, req.Header.Get(echo.HeaderContentType)); err != nil {
				return err
			}
			params := make(map[string]string, len(c.ParamNames()))
			for i, name := range c.ParamNames() {
				v, err := unescapedParam(c, c.ParamValues()[i])
				if err != nil {
					return &sellable.FieldError{Field: fieldOf(name), Err: err}
				}
				params[name] = v
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return refusal(err)
			}
			return next(c)
		}
	}
}

// unescapedParam is a path parameter URL-decoded. Echo routes on the raw
// path when the request has escapes that matter (%2F), and then leaves
// them in the parameter.
func unescapedParam(c echo.Context, v string) (string, error) {
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	return url.PathUnescape(v)
}

func fieldOf(param string) string {
	if f, ok := paramField[param]; ok {
		return f
	}
	return param
}

// ErrMediaType is a request body in a media type the operation does not
// take (415).
var ErrMediaType = errors.New("unsupported media type")

// checkMediaType refuses a body declared in a media type the operation
// does not list. A request with no Content-Type is read as JSON, as the
// seed did: clients that never sent one keep working.
func checkMediaType(op *openapi3.Operation, contentType string) error {
	if contentType == "" || op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	if contentType == echo.MIMEApplicationJSON && op.RequestBody.Value.Content.Get(contentType) != nil {
		return nil // what nearly every request sends, without parsing it (which allocates)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && op.RequestBody.Value.Content.Get(mt) != nil {
		return nil
	}
	return &sellable.FieldError{Field: echo.HeaderContentType, Err: fmt.Errorf("%w %q: send application/json", ErrMediaType, contentType)}
}

// refusal turns kin-openapi's error into the house error: the parameter
// it is about and why, without the document's internals (schema dumps).
func refusal(err error) error {
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return err
	}
	reason := re.Reason
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		reason = se.Reason
	} else if re.Err != nil && reason == "" {
		reason = re.Err.Error()
	}
	if re.Parameter == nil {
		return &sellable.FieldError{Field: "body", Err: errors.New(reason)}
	}
	if re.Parameter.In != openapi3.ParameterInPath {
		// Only the path's {location} is the commands' locationId; a query
		// parameter keeps its own name (GET /inventory/skus/{sku}?location=).
		return &sellable.FieldError{Field: re.Parameter.Name, Err: errors.New(reason)}
	}
	return &sellable.FieldError{Field: fieldOf(re.Parameter.Name), Err: errors.New(reason)}
}

// documentRoute is operation opID of the embedded document; a missing
// one panics, the document being part of the build (the tests catch it).
func documentRoute(opID string) *routers.Route {
	ops, err := documentOperations()
	if err != nil {
		panic(err)
	}
	route := ops[opID]
	if route == nil {
		panic("api: no operation " + opID + " in openapi.yaml")
	}
	return route
}

// withValidation gives every operation of tag in the document the
// validateOp middleware, after the operation's own middleware in extra
// (a body limit, say), as the generated RegisterHandlersWithOptions
// takes them. Operations come from the document, so an operation added
// to a tag is validated without a change here.
func withValidation(tag string, extra map[string][]echo.MiddlewareFunc) map[string][]echo.MiddlewareFunc {
	return withCheck(tag, extra, validateOp)
}

// withCheck is withValidation with check in place of validateOp (the
// command routes' hand check, commandCheck).
func withCheck(tag string, extra map[string][]echo.MiddlewareFunc, check func(opID string) echo.MiddlewareFunc) map[string][]echo.MiddlewareFunc {
	ops, err := documentOperations()
	if err != nil {
		panic(err) // embedded document: a build defect the tests catch
	}
	out := map[string][]echo.MiddlewareFunc{}
	for id, r := range ops {
		for _, t := range r.Operation.Tags {
			if t == tag {
				out[id] = append(append([]echo.MiddlewareFunc(nil), extra[id]...), check(id))
			}
		}
	}
	return out
}

// statusOf is the status of a refusal validateOp makes that is not 400.
func statusOf(fe *sellable.FieldError) int {
	if errors.Is(fe.Err, ErrMediaType) {
		return http.StatusUnsupportedMediaType
	}
	return http.StatusBadRequest
}
