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
// not NATS.
//
// # Spec first
//
// openapi.yaml describes every route of every program and is embedded
// and served (spec.go). The server code is generated from it by
// oapi-codegen v2.8.2 (a Go tool dependency in go.mod): one package per
// tag under gen/ (gen/<tag>.yaml, run by the go:generate lines of
// generate.go), each with a ServerInterface, a wrapper that binds the
// parameters, and RegisterHandlersWithOptions, which mounts the routes
// as the document names them. A tag is the set of operations that the
// programs serving one of them serve together (commands: the all-in-one
// and the mutator; queries: every query API; listing: the Scylla query
// service; calculator; readiness; operations: every program; registry:
// the all-in-one and the schema registry), so each program implements
// exactly the tags it serves: RegisterCommands, RegisterQueries,
// RegisterList, RegisterCalculatorStatus, RegisterReady, NewServer and
// registry.Handler.Register each implement one tag's interface.
//
// What stays hand-written, and why:
//   - Request bodies. The generated request types cannot keep the seed's
//     count (a number or a string holding one) without a union type, and
//     encoding/json would accept duplicate keys and invalid UTF-8 and
//     name no field in its errors. The handlers read bodies with
//     decode.go; the generated types are unused for requests.
//   - Response types. The generated ones would fit (Position,
//     CommandResponse), but api keeps its own, spelled out, so an answer
//     changes only by an edit here; TestAnswerTypesMatchTheGeneratedOnes
//     fails when their members differ from the generated types', and
//     TestAnswersConformToSpec and schemathesis hold real answers to the
//     document.
//   - The registry subset's parameters and errors. Its server
//     (registry.Handler) is generated like the others, but its handlers
//     read their parameters by Confluent's rules and every error, the
//     generated wrapper's included, is rendered as Confluent's
//     {error_code,message} (a schema id that is not a number is 404
//     40403, as Confluent answers it); validateOp, which answers in our
//     shape, is not applied to it.
//
// Four tests and the compiler hold code and document together: TestGeneratedCodeIsCurrent
// regenerates into a temporary directory and fails when a committed
// file differs (a document edited without go generate); the build fails
// while a generated interface has a method no server implements;
// TestSpecDescribesEveryRoute fails when a program serves a route the
// document lacks or the document has one nobody serves;
// TestRoutesComeFromGeneratedCode fails when a documented route of a
// generated tag is registered by hand (e.GET) instead of through its
// tag's generated RegisterHandlers; TestEveryTagIsGenerated fails when
// an operation's tag has no generated package.
//
// # Adding an operation
//
//  1. Describe it in openapi.yaml: path, operationId, exactly one tag,
//     parameters, request and response schemas, and its errors as
//     $ref: "#/components/responses/Error".
//  2. Run go generate ./api. The tag's ServerInterface gains a method
//     and the build fails until it is implemented.
//  3. Implement the method on the tag's server type (commandServer,
//     queryServer, listServer, ...), decoding a body with decode.go when
//     its errors must name fields. Route middleware an operation needs
//     (a body limit) goes in the map its Register function passes to
//     withValidation, keyed by operationId; validation comes with it.
//  4. A route served by a different set of programs than any tag gets a
//     new tag: copy a gen/<tag>.yaml, add its go:generate line, implement
//     the new package's ServerInterface in a Register function here,
//     call that from each program (app/), and add it to programServers
//     in openapi_test.go.
//
// # Request validation
//
// Every generated route runs validateOp (validate.go): kin-openapi's
// openapi3filter checks path, query and header parameters against the
// document, and the body's media type is checked against the
// operation's (a body without Content-Type is read as JSON, as the seed
// did). Bodies are not validated there: the hand-written decoders
// already refuse everything the schemas do, and kin-openapi decoding a
// 100-command batch a second time costs 1.2 to 1.7 ms per request
// (BENCHMARKS.md, "Request validation"). A refusal is a 400 (415 for the
// media type) naming the parameter in the error body below.
//
// Two exceptions, the hottest routes: the point query (getPosition),
// answered from memory, runs checkPosition (positioncheck.go) instead,
// the same rules read from the same document without kin-openapi's cost
// per request, held to its verdicts by
// TestPositionCheckAgreesWithTheDocument; its answer is written by
// AppendPosition, not encoding/json. The commands (adjust, reserve,
// batch) run commandCheck (commandcheck.go): the media type and the
// Idempotency-Key header's rules from the document, held to
// validateOp's verdicts by TestCommandCheckAgreesWithTheDocument, with
// their middleware applied once at registration (composedRouter); a
// single command's answer is written by appendCommandAnswer.
//
// # Error bodies
//
// Every error of the inventory routes is one documented schema,
// ErrorBody: {"error": what went wrong, "field": the invalid field or
// parameter, when there is one}, as application/json, from one error
// handler (errors.go). We decided against RFC 9457 problem details
// (application/problem+json with type, title, status, detail) for now:
// the new media type breaks clients that accept application/json (the
// seed's, the load tool, the CLI, generated clients that pick the
// answer's type by media type), and type, title and status would repeat
// what the status line and error already say, with no per-problem
// documentation for type to point at (it would be about:blank
// throughout). The registry subset answers Confluent's body whatever we
// choose, so one standard across every route was not on offer. Adopting
// problem details later stays compatible: error and field would remain
// as extension members, offered to clients that send
// Accept: application/problem+json.
//
// # Who may call what
//
// Who may call what is one table, RouteScopes (scopes.go): each route
// and the scope it needs. Protect (auth.go) enforces it with bearer
// tokens that an Authenticator (package auth) turns into a principal,
// and limits each principal's rate on the command routes; the principal
// becomes the source of every event it sends. A server Protect was not
// applied to, or one without credentials configured, is open: the
// loopback default.
package api
