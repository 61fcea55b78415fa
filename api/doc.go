// Package api holds the Echo HTTP handlers: the command endpoints that
// record adjustments and reservations, the cart reservation endpoints
// (reservations.go: reserve, get, confirm, release, fulfil, over a
// Reserver), the query endpoint that reads a position, and health checks. Handlers only decode, call a small
// interface declared here, and map the result; one error handler renders
// every error as JSON. Command bodies are read strictly (decode.go): one
// spelling per input, so that two different bodies never become one
// command. Answers have their own types (PositionResponse, CommandResponse,
// BatchResponse), converted from the domain's explicitly: no domain or
// stored type is serialized here. The package knows Echo and the domain,
// not NATS. openapi.yaml describes every route of every program and is
// embedded and served (spec.go); openapi_test.go fails when a registered
// route is missing from it or an answer does not conform to it.
package api
