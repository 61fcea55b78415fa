package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/sellable/inventory/sellable"
)

// Run for minutes with, e.g.:
//
//	go test -run '^$' -fuzz FuzzDecodeCommand -fuzztime 3m ./api/
//	go test -run '^$' -fuzz FuzzDecodeBatch -fuzztime 3m ./api/

var commandSeeds = []string{
	`{"locationId":"STL","sku":"123123","count":100}`,
	`{"locationId":"STL","sku":"123123","count":"-5"}`,
	`{"locationId":"a.b*>","sku":"東京 1","count":"1"}`,
	`{"locationId":"A","locationId":"B","sku":"1","count":1}`,
	"{\"locationId\":\"a\xffb\",\"sku\":\"1\",\"count\":1}",
	`{"locationId":"STL","sku":"a\ud800b","count":1}`,
	`{"locationId":"STL","sku":"\ud83d\ude00\u0085","count":1}`,
	`{"locationId":"STL","sku":"1","count":"+5"}`,
	`{"locationId":"STL","sku":"1","count":"05"}`,
	`{"locationId":"STL","sku":"1","count":1e3}`,
	`{"locationId":"S\"\\\/\b\f\n\r\tL","sku":"1","count":1, "extra": {"a":[1,{"b":null}]}}`,
	`[1]`, `null`, `{`, ``,
}

// FuzzDecodeCommand: no input panics; every refusal is a 400 naming a
// field; an accepted command that passes the domain's validation reads
// the same as encoding/json reads it (so no two inputs share a key by a
// silent replacement) and survives a round trip.
func FuzzDecodeCommand(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cmd, err := decodeCommand(bytes.NewReader(data))
		if err != nil {
			mustBe400(t, data, err)
			return
		}
		cmd.Kind = sellable.Adjustment
		checkAccepted(t, data, nil, cmd)
		if t.Failed() || validate(cmd) != nil {
			return
		}
		again, err := decodeCommand(bytes.NewReader(encode(t, cmd, false)))
		again.Kind = cmd.Kind
		if err != nil || again != cmd {
			t.Fatalf("round trip of %+v: %+v, %v", cmd, again, err)
		}
	})
}

// FuzzDecodeBatch is FuzzDecodeCommand for POST /inventory/batch.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range commandSeeds {
		f.Add([]byte(`{"commands":[` + s + `]}`))
	}
	f.Add([]byte(`{"commands":[{"type":"adjustment","locationId":"B","sku":"1","count":"100"},{"type":"reservation","locationId":"B","sku":"1","count":10}]}`))
	f.Add([]byte(`{"commands":[{"type":"adjustment","type":"reservation","locationId":"B","sku":"1","count":1}]}`))
	f.Add([]byte(`{"commands":[],"commands":[{"type":"adjustment","locationId":"B","sku":"1","count":1}]}`))
	f.Add([]byte(`{"commands":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cmds, err := decodeBatch(bytes.NewReader(data))
		if err != nil {
			mustBe400(t, data, err)
			return
		}
		if len(cmds) == 0 || len(cmds) > MaxBatch {
			t.Fatalf("accepted %d commands", len(cmds))
		}
		var std struct{ Commands []map[string]any }
		if err := json.Unmarshal(data, &std); err != nil || len(std.Commands) != len(cmds) {
			t.Fatalf("accepted %q, which encoding/json reads as %v, %v", data, std, err)
		}
		var body bytes.Buffer
		body.WriteString(`{"commands":[`)
		for i, cmd := range cmds {
			if cmd.Kind != sellable.Adjustment && cmd.Kind != sellable.Reservation {
				t.Fatalf("command %d of %q has kind %v", i, data, cmd.Kind)
			}
			checkAccepted(t, data, std.Commands[i], cmd)
			if t.Failed() || validate(cmd) != nil {
				return
			}
			if i > 0 {
				body.WriteByte(',')
			}
			body.Write(encode(t, cmd, true))
		}
		body.WriteString(`]}`)
		again, err := decodeBatch(&body)
		if err != nil || len(again) != len(cmds) {
			t.Fatalf("round trip of %q: %v", body.String(), err)
		}
		for i := range cmds {
			if again[i] != cmds[i] {
				t.Fatalf("round trip of command %d: %+v, want %+v", i, again[i], cmds[i])
			}
		}
	})
}

func mustBe400(t *testing.T, data []byte, err error) {
	t.Helper()
	var fe *sellable.FieldError
	if status, body := classify(err); !errors.As(err, &fe) || status != http.StatusBadRequest || body.Field == "" {
		t.Fatalf("%q refused with %d %+v (%v), want a 400 naming a field", data, status, body, err)
	}
}

// checkAccepted compares an accepted command with what encoding/json
// reads from the same object (std, or the whole body when nil): the two
// agree on every input the strict reader lets through.
func checkAccepted(t *testing.T, data []byte, std map[string]any, cmd sellable.Command) {
	t.Helper()
	if std == nil {
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", data, err)
		}
	}
	if std["locationId"] != cmd.LocationID || std["sku"] != cmd.SKU {
		t.Fatalf("accepted %q as %+v; encoding/json reads %q, %q", data, cmd, std["locationId"], std["sku"])
	}
}

// validate is what the command service checks before it publishes.
func validate(cmd sellable.Command) error {
	e := sellable.Event{Kind: cmd.Kind, Key: sellable.Key{LocationID: cmd.LocationID, SKU: cmd.SKU}, Count: cmd.Count}
	return e.Validate()
}

func encode(t *testing.T, cmd sellable.Command, withType bool) []byte {
	t.Helper()
	m := map[string]any{"locationId": cmd.LocationID, "sku": cmd.SKU, "count": cmd.Count}
	if withType {
		m["type"] = cmd.Kind.String()
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
