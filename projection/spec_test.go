package projection

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/sellable/inventory/api"
)

// The document's bounds of the list's page size are the reader's, so a
// client that keeps to the document is never refused a limit (schemathesis
// found the document without them).
func TestSpecListLimitIsTheReaders(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.Spec)
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/inventory/locations/{location}/skus").Get
	p := op.Parameters.GetByInAndName("query", "limit")
	if p == nil {
		t.Fatal("listPositions has no limit parameter")
	}
	s := p.Schema.Value
	if s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != MaxListLimit {
		t.Fatalf("limit in the document: minimum %v, maximum %v; the reader takes 1 to %d", s.Min, s.Max, MaxListLimit)
	}
}
