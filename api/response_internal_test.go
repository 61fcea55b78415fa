package api

import (
	"encoding/json"
	"testing"

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
