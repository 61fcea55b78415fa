package api

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/sellable/inventory/sellable"
)

// readObjectCommand is how decodeCommand read a body before its one-pass
// reader: readObject's map, then commandFields. It stays the reference
// the one-pass reader must agree with.
func readObjectCommand(data []byte) (sellable.Command, error) {
	fields, err := readObject(data, "")
	if errors.Is(err, errNotObject) {
		return sellable.Command{}, &sellable.FieldError{Field: "body", Err: err}
	}
	if err != nil {
		return sellable.Command{}, err
	}
	return commandFields(fields)
}

var onePassSeeds = []string{
	` { "sku" : "1" , "locationId":"L" ,"count" : 7 } `,
	`{"locationId":"L","sku":"1","count":"7","reason":"received","reference":"PO-1"}`,
	`{"locationId":"L","sku":"1","count":"7","reason":null}`,
	`{"locationId":"L","sku":"1","count":"7","reference":5}`,
	`{"loc\u0061tionId":"L","sku":"1","count":1}`,
	`{"locationId":"L","loc\u0061tionId":"M","sku":"1","count":1}`,
	`{"locationId":"L","sku":"1","count":1,"x":1,"x":2}`,
	`{"locationId":"L","sku":"1","count":1,"":1,"":2}`,
	`{"locationId":"L","sku":"1","count":1,"a\ud800":1}`,
	"{\"locationId\":\"L\",\"sku\":\"1\",\"count\":1,\"\xff\":1}",
	`{"locationId":1,"sku":"1","count":1,"sku":2}`,
	`{"locationId":"L","sku":"1","count":" 5"}`,
	`{"locationId":"L","sku":"1","count":"null"}`,
	`{"locationId":"L","sku":"1","count":""}`,
	`{"locationId":"L","sku":"1","count":"\u0035"}`,
	`{"locationId":"L","sku":"1","count":"--5"}`,
	`{"locationId":"L","sku":"1","count":"-0"}`,
	`{"locationId":"L","sku":"1","count":null}`,
	`{"locationId":"L","sku":"1","count":99999999999999999999}`,
	`{"locationId":"L","sku":"1","count":[1,{"a":"]}"}],"y":{"z":[]}}`,
	`{"locationId":"L","sku":"1","count":true}`,
	`{"locationId":"L","sku":null,"count":1}`,
	`{"a":"\"","locationId":"L\\","sku":"1","count":-1}`,
	`{} `, `"x"`, `{"a":1}x`, "\t\n{\"locationId\":\"L\",\"sku\":\"1\",\"count\":1}\r\n",
}

// FuzzDecodeCommandOnePass: the one-pass reader of a single command
// answers every body as readObject and commandFields do: the same
// command, or the same refusal (status, message and field).
func FuzzDecodeCommandOnePass(f *testing.F) {
	for _, s := range append(commandSeeds, onePassSeeds...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeCommand(bytes.NewReader(data))
		want, werr := readObjectCommand(data)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: one pass %+v, %v; readObject %+v, %v", data, got, err, want, werr)
		}
		if err != nil {
			gs, gb := classify(err)
			ws, wb := classify(werr)
			if gs != ws || gb != wb {
				t.Fatalf("%q refused: one pass %d %+v; readObject %d %+v", data, gs, gb, ws, wb)
			}
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: one pass %+v; readObject %+v", data, got, want)
		}
	})
}
