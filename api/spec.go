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

func (operationsServer) OpenapiYAML(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", Spec)
}

func (operationsServer) OpenapiJSON(c echo.Context) error {
	js, err := SpecJSON()
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, js)
}
