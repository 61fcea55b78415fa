package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"
)

// Spec is the OpenAPI 3 document of every route the programs serve
// (openapi.yaml). A test fails when a program registers a route the
// document does not describe, so the two cannot drift apart silently.
//
//go:embed openapi.yaml
var Spec []byte

// specJSON is Spec converted once: clients and tools that read only
// JSON get the same document.
var specJSON = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(Spec, &doc); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("api: openapi.yaml as JSON: %w", err)
	}
	return b, nil
})

// SpecJSON is Spec as JSON.
func SpecJSON() ([]byte, error) { return specJSON() }

// RegisterSpec mounts GET /openapi.yaml, GET /openapi.json and the page
// rendering them at GET /docs. NewServer calls it, so every program
// serves the document.
func RegisterSpec(e *echo.Echo) {
	// The document is embedded: failing to convert it is a build defect
	// the tests catch, not a condition to serve around.
	js, err := SpecJSON()
	if err != nil {
		panic(err)
	}
	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", Spec)
	})
	e.GET("/openapi.json", func(c echo.Context) error {
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, js)
	})
	registerDocs(e)
}
