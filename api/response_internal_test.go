package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api/gen/commands"
	"github.com/sellable/inventory/api/gen/listing"
	"github.com/sellable/inventory/api/gen/queries"
	"github.com/sellable/inventory/sellable"
)

// The answers keep the exact shape they had when they embedded
// sellable.Receipt (README's walkthrough shows the first one).
func TestAnswerShapes(t *testing.T) {
	rc := sellable.Receipt{Stream: "INVENTORY", Seq: 1, Partition: 2}
	cmd := sellable.Command{Kind: sellable.Adjustment, LocationID: "STL", SKU: "123123", Count: 100}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"command", commandResponse(cmd, rc),
			`{"locationId":"STL","sku":"123123","count":100,"stream":"INVENTORY","seq":1,"partition":2,"duplicate":false}`},
		{"batch", batchResponse([]sellable.Receipt{rc, {Stream: "INVENTORY", Seq: 1, Partition: 2, Duplicate: true}}),
			`{"results":[{"stream":"INVENTORY","seq":1,"partition":2,"duplicate":false},{"stream":"INVENTORY","seq":1,"partition":2,"duplicate":true}]}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(c.v)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s, %v\nwant %s", c.name, got, err, c.want)
		}
	}
}

// jsonFields are the JSON member names of struct type t, recursively for
// struct and slice-of-struct members, as "name" and "outer.inner".
func jsonFields(t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() {
		return
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[prefix+name] = true
		jsonFields(f.Type, prefix+name+".", out)
	}
}

// The hand-written answer types (api/doc.go says why they are kept) have
// exactly the members of the types generated from the document's
// schemas: a member added to a schema must be added to its answer, and
// the other way round.
func TestAnswerTypesMatchTheGeneratedOnes(t *testing.T) {
	cases := []struct {
		name      string
		ours, gen any
	}{
		{"CommandResponse", CommandResponse{}, commands.CommandResponse{}},
		{"BatchResponse", BatchResponse{}, commands.BatchResponse{}},
		{"PositionResponse", PositionResponse{}, queries.Position{}},
		{"ListResponse", ListResponse{}, listing.PositionPage{}},
		{"ErrorBody", ErrorBody{}, queries.ErrorBody{}},
	}
	for _, c := range cases {
		ours, gen := map[string]bool{}, map[string]bool{}
		jsonFields(reflect.TypeOf(c.ours), "", ours)
		jsonFields(reflect.TypeOf(c.gen), "", gen)
		if !maps.Equal(ours, gen) {
			t.Errorf("%s has members %v, the document's schema %v", c.name, slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(gen)))
		}
	}
}

// TestCommandAnswerIsTheJSONAnswer holds the hand-written answer of a
// single command to what encoding/json, as Echo's c.JSON uses it (HTML
// escaping, a trailing newline), writes for the same CommandResponse:
// identifiers that need escaping, extreme counts, the optional members
// present and absent, a duplicate.
func TestCommandAnswerIsTheJSONAnswer(t *testing.T) {
	for _, r := range []CommandResponse{
		{LocationID: "STL", SKU: "123123", Count: 100, Stream: "INVENTORY", Seq: 1, Partition: 2},
		{LocationID: `a"b\c`, SKU: "<&>", Count: math.MinInt64, Reason: "shrink", Reference: "PO-1\u2028x",
			Stream: "INVENTORY", Seq: math.MaxUint64, Partition: 7, Duplicate: true},
		{LocationID: "ünï\u2028cødé", SKU: "tab\there\x7f", Count: math.MaxInt64, Reference: "r"},
		{Reason: "recount"},
		{},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(r); err != nil {
			t.Fatal(err)
		}
		if got := appendCommandAnswer(nil, r); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendCommandAnswer(%+v)\n got %s\nwant %s", r, got, want.Bytes())
		}
	}
}
