package api

// The Echo server code of each tag of openapi.yaml, one package per tag
// under gen/ (gen/<tag>.yaml configures it; api/doc.go says how to add
// an operation or a tag). TestGeneratedCodeIsCurrent runs these lines
// into a temporary directory and fails when a committed file differs.
//
//go:generate go tool oapi-codegen -config gen/commands.yaml -o gen/commands/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/counts.yaml -o gen/counts/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/reservations.yaml -o gen/reservations/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/live.yaml -o gen/live/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/queries.yaml -o gen/queries/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/listing.yaml -o gen/listing/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/calculator.yaml -o gen/calculator/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/readiness.yaml -o gen/readiness/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/operations.yaml -o gen/operations/server.gen.go openapi.yaml
//go:generate go tool oapi-codegen -config gen/registry.yaml -o gen/registry/server.gen.go openapi.yaml
