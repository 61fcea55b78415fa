package api

import "github.com/sellable/inventory/auth"

// Open marks a route that needs no credential.
const Open auth.Scope = ""

// RouteScopes is the one table of who may call what: each route, as
// "METHOD /pattern" in Echo's syntax, and the scope it needs. When
// credentials are configured, a registered route missing here is
// refused to everyone (403), and TestEveryRouteHasAScope fails, so a
// new route is added here in the same change: one line.
//
// Open: the probes (an orchestrator has no token) and the OpenAPI
// document with its page (it is what the repository publishes anyway,
// and a browser cannot send a bearer token when it loads a page; the
// page's "Authorize" sends one with each call it makes).
//
// A route added to a program needs its line here (TestEveryRouteHasAScope
// fails without it): GET /inventory/changes is inventory:read, and a web
// page with its assets is Open (its calls carry the token).
//
// A route needing inventory:adjust or inventory:reserve is rate limited
// per principal (Protect).
var RouteScopes = map[string]auth.Scope{
	"GET /healthz":                                         Open,
	"GET /readyz":                                          Open,
	"GET /openapi.yaml":                                    Open,
	"GET /openapi.json":                                    Open,
	"GET /docs":                                            Open,
	"GET /docs/init.js":                                    Open,
	"GET /docs/swagger-ui-bundle.js":                       Open,
	"GET /docs/swagger-ui.css":                             Open,
	"GET /metrics":                                         auth.ScopeRead,
	"GET /calculator/status":                               auth.ScopeRead,
	"GET /debug/pprof/*":                                   auth.ScopeAdmin, // its own listener, INVENTORY_PPROF_ADDR
	"POST /inventory/adjustment":                           auth.ScopeAdjust,
	"POST /inventory/batch":                                auth.ScopeAdjust, // and inventory:reserve for each reservation in it (batch.go)
	"POST /inventory/reservation":                          auth.ScopeReserve,
	"GET /inventory/changes":                               auth.ScopeRead,
	"GET /inventory/deadletters":                           auth.ScopeAdmin, // raw message bodies and headers
	"GET /console":                                         Open,            // a page; its calls carry the token
	"GET /console/console.js":                              Open,
	"GET /console/console.css":                             Open,
	"POST /inventory/counts":                               auth.ScopeAdjust,
	"POST /inventory/reservations":                         auth.ScopeReserve,
	"GET /inventory/reservations/:id":                      auth.ScopeReserve,
	"POST /inventory/reservations/:id/confirm":             auth.ScopeReserve,
	"POST /inventory/reservations/:id/release":             auth.ScopeReserve,
	"POST /inventory/reservations/:id/fulfil":              auth.ScopeReserve,
	"GET /inventory/locations/:location/skus/:sku":         auth.ScopeRead,
	"GET /inventory/locations/:location/skus":              auth.ScopeRead,
	"GET /inventory/locations/:location/skus/:sku/history": auth.ScopeRead,
	"GET /inventory/skus/:sku":                             auth.ScopeRead,

	// The schema registry: reads (a lookup and a compatibility check
	// are POSTs that change nothing) and writes.
	"GET /subjects":                                           auth.ScopeRead,
	"GET /subjects/:subject/versions":                         auth.ScopeRead,
	"GET /subjects/:subject/versions/:version":                auth.ScopeRead,
	"GET /subjects/:subject/versions/:version/schema":         auth.ScopeRead,
	"POST /subjects/:subject":                                 auth.ScopeRead,
	"GET /schemas/ids/:id":                                    auth.ScopeRead,
	"GET /schemas/ids/:id/schema":                             auth.ScopeRead,
	"GET /schemas/types":                                      auth.ScopeRead,
	"GET /config":                                             auth.ScopeRead,
	"GET /config/:subject":                                    auth.ScopeRead,
	"POST /compatibility/subjects/:subject/versions":          auth.ScopeRead,
	"POST /compatibility/subjects/:subject/versions/:version": auth.ScopeRead,
	"POST /subjects/:subject/versions":                        auth.ScopeRegistryWrite,
	"PUT /config":                                             auth.ScopeRegistryWrite,
	"PUT /config/:subject":                                    auth.ScopeRegistryWrite,
}
