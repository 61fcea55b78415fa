package api

import (
	"reflect"
	"runtime"

	"github.com/labstack/echo/v4"
)

// composedRouter registers routes with their middleware applied once, at
// registration, where Echo applies a route's middleware on every request
// (a closure per middleware per request: two allocations of every
// command's route, BENCHMARKS.md "Where a single command's CPU goes").
// The middleware given here (body limits, the command check) builds no
// state when applied, so applying it once answers every request exactly
// as applying it per request did. A route keeps the name of its handler.
// It is the generated RegisterHandlers' router (their EchoRouter).
type composedRouter struct{ e *echo.Echo }

func (r composedRouter) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	name := runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
	// As Echo's applyMiddleware: the first middleware is the outermost.
	for i := len(m) - 1; i >= 0; i-- {
		h = m[i](h)
	}
	route := r.e.Add(method, path, h)
	route.Name = name
	return route
}

func (r composedRouter) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.CONNECT, p, h, m)
}

func (r composedRouter) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.DELETE, p, h, m)
}

func (r composedRouter) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.GET, p, h, m)
}

func (r composedRouter) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.HEAD, p, h, m)
}

func (r composedRouter) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.OPTIONS, p, h, m)
}

func (r composedRouter) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.PATCH, p, h, m)
}

func (r composedRouter) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.POST, p, h, m)
}

func (r composedRouter) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.PUT, p, h, m)
}

func (r composedRouter) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(echo.TRACE, p, h, m)
}
