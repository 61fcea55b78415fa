package wire_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sellable/inventory/internal/hostile"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/wire"
)

// Per input, far above what a decode within the default limits costs and
// far below what the attacks of issue 9 cost (hundreds of MB, forever).
const (
	fuzzMaxAlloc = 64 << 20
	fuzzMaxTime  = 10 * time.Second
)

// FuzzDecodeStored feeds the stored-event decoder hostile writer schemas
// and bodies through a real registry: schema is registered (under a
// subject of its own, so no compatibility check stands in the way, as an
// attacker would do) and, when withID is set, body is prefixed with its
// id; otherwise body is the whole message (bad magic, unknown ids,
// truncated prefixes). Whatever the input, DecodeStored must return,
// within bounded time and allocation, either a valid event or an error
// that dead-letters it, never ErrRegistry (retried forever) or a panic.
//
//	go test -run '^$' -fuzz FuzzDecodeStored -fuzztime 3m -parallel 1 ./wire/
func FuzzDecodeStored(f *testing.F) {
	base := wire.Schemas()[wire.SubjectAdjustments]
	key := sellable.Key{LocationID: "STL", SKU: "fuzz"}
	good := hostile.Body(key.LocationID, key.SKU, 5, nil)
	for _, a := range hostile.Attacks() {
		schema := hostileSchema(f, a)
		f.Add(schema, true, hostile.Body(key.LocationID, key.SKU, 5, a.Value))
		if a.Name != "union-deep" { // a megabyte: one seed is enough
			f.Add(schema, true, hostile.Body(key.LocationID, key.SKU, 5, a.Value[:len(a.Value)/2]))
		}
	}
	f.Add(base, true, good)
	for _, n := range []int{0, 1, 4, len(good) - 1} {
		f.Add(base, true, good[:n]) // truncated
	}
	f.Add(adjustmentWith(f, array("int")), true, hostile.Body(key.LocationID, key.SKU, 5, []byte{3, 2, 4, 6, 0}))
	f.Add(adjustmentWith(f, map[string]any{"type": "map", "values": []any{"null", "string"}}), true,
		hostile.Body(key.LocationID, key.SKU, 5, []byte{1, 2, 'k', 2, 2, 'v', 0}))
	f.Add("", false, hostile.Wire(999999, good)) // unknown id
	f.Add("", false, hostile.Wire(0, good))      // id 0
	f.Add("", false, append([]byte{1}, hostile.Wire(1, good)[1:]...))
	f.Add("", false, []byte{0, 0, 0})
	f.Add(`{"type":"record","name":"Other","fields":[{"name":"x","type":"long"}]}`, true, []byte{2})

	_, store := newStore(f)
	reg := registry.Local{Store: store}
	evs := newCodecs(f, reg, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)
	subject := storedSubject(sellable.Adjustment, key)
	ctx := testCtx(f)

	f.Fuzz(func(t *testing.T, schema string, withID bool, body []byte) {
		data := body
		if withID {
			sum := sha256.Sum256([]byte(schema))
			id, err := reg.Register(ctx, "fuzz."+hex.EncodeToString(sum[:8])+"-value", schema)
			if err != nil {
				return // not valid Avro: no id can name it
			}
			data = hostile.Wire(id, body)
		}

		type result struct {
			ev  sellable.Event
			err error
		}
		done := make(chan result, 1)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		go func() {
			ev, _, err := codecs.DecodeStored(ctx, subject, avroHeader(), data)
			done <- result{ev, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(fuzzMaxTime):
			t.Fatalf("DecodeStored did not return within %v", fuzzMaxTime)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > fuzzMaxAlloc {
			t.Fatalf("DecodeStored allocated %d MB", grew>>20)
		}

		switch {
		case r.err == nil:
			if err := r.ev.Validate(); err != nil || r.ev.Key != key || r.ev.Kind != sellable.Adjustment {
				t.Fatalf("DecodeStored = %+v, which is not valid: %v", r.ev, err)
			}
		case errors.Is(r.err, wire.ErrRegistry):
			t.Fatalf("DecodeStored = %v: a bad message would be retried forever", r.err)
		case errors.Is(r.err, wire.ErrDecode), errors.Is(r.err, wire.ErrMismatch), isFieldError(r.err):
			// dead-lettered with the reason
		default:
			t.Fatalf("DecodeStored = %v: not an error class the calculator dead-letters for a reason", r.err)
		}
	})
}

func isFieldError(err error) bool {
	var fe *sellable.FieldError
	return errors.As(err, &fe)
}

// FuzzSchemaBounds checks the bounds check itself on any text: it
// returns (no panic, no stack overflow on recursive or deep schemas) and
// a verdict that is stable over the schema's normalized form, which is
// what the registry stores and the decoder checks again.
//
//	go test -run '^$' -fuzz FuzzSchemaBounds -fuzztime 3m -parallel 1 ./wire/
func FuzzSchemaBounds(f *testing.F) {
	for _, a := range hostile.Attacks() {
		f.Add(hostileSchema(f, a))
	}
	for _, s := range wire.Schemas() {
		f.Add(s)
	}
	f.Add(adjustmentWith(f, nested(40, "int")))
	f.Add(`{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[]}},{"name":"c","type":"B"}]}`)
	f.Add(`{"type":"fixed","name":"F","size":0}`)
	bounds := wire.DefaultSchemaBounds()
	f.Fuzz(func(t *testing.T, schema string) {
		err := bounds.Check(schema)
		if err != nil {
			return
		}
		normalized, perr := normalize(schema)
		if perr != nil {
			t.Fatalf("Check passed a schema that does not normalize: %v", perr)
		}
		if len(normalized) <= bounds.MaxBytes {
			if err := bounds.Check(normalized); err != nil {
				t.Fatalf("Check(schema) = nil but Check(normalized) = %v", err)
			}
		}
	})
}

// normalize is the registry's normalized form: hamba's full JSON.
func normalize(schema string) (string, error) {
	s, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(s)
	return string(b), err
}
