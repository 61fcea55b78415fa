package wire_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sellable/inventory/internal/hostile"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/wire"
)

// hostileSchema is the adjustment schema with attack a's field.
func hostileSchema(t testing.TB, a hostile.Attack) string {
	t.Helper()
	s, err := a.Schema(wire.Schemas()[wire.SubjectAdjustments])
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// adjustmentWith is the adjustment schema with one more field of type typ.
func adjustmentWith(t testing.TB, typ any) string {
	t.Helper()
	s, err := hostile.WithField(wire.Schemas()[wire.SubjectAdjustments], map[string]any{"name": "extra", "type": typ})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func record(name string, fields ...any) map[string]any {
	return map[string]any{"type": "record", "name": name, "fields": fields}
}

func field(name string, typ any) map[string]any { return map[string]any{"name": name, "type": typ} }

func array(items any) map[string]any { return map[string]any{"type": "array", "items": items} }

// nested is typ inside n arrays.
func nested(n int, typ any) any {
	for range n {
		typ = array(typ)
	}
	return typ
}

func TestSchemaBoundsCheck(t *testing.T) {
	within := map[string]string{
		"embedded adjustment":  wire.Schemas()[wire.SubjectAdjustments],
		"embedded reservation": wire.Schemas()[wire.SubjectReservations],
		"array of ints":        adjustmentWith(t, array("int")),
		"map of strings":       adjustmentWith(t, map[string]any{"type": "map", "values": "string"}),
		"named type used twice, not recursively": adjustmentWith(t, record("Pair",
			field("a", record("Point", field("x", "int"))), field("b", "Point"))),
		"array of records with a byte":  adjustmentWith(t, array(record("R", field("n", "null"), field("b", "boolean")))),
		"array of unions with null":     adjustmentWith(t, array([]any{"null", "int"})),
		"array of one-symbol enums":     adjustmentWith(t, array(map[string]any{"type": "enum", "name": "One", "symbols": []any{"A"}})),
		"array of fixed 1":              adjustmentWith(t, array(map[string]any{"type": "fixed", "name": "F1", "size": 1})),
		"nesting at the depth limit":    adjustmentWith(t, nested(30, "int")), // the record, 30 arrays, int: 32 levels
		"logical types":                 adjustmentWith(t, map[string]any{"type": "long", "logicalType": "timestamp-micros"}),
		"a bare array (not a record)":   `{"type":"array","items":"long"}`,
		"a bare primitive":              `"string"`,
		"recursion only in another rec": `{"type":"record","name":"A","fields":[{"name":"b","type":{"type":"record","name":"B","fields":[]}},{"name":"c","type":"B"}]}`,
	}
	for name, schema := range within {
		t.Run(name, func(t *testing.T) {
			if err := wire.DefaultSchemaBounds().Check(schema); err != nil {
				t.Fatalf("Check = %v, want nil", err)
			}
		})
	}

	type out struct {
		schema string
		bounds wire.SchemaBounds
		want   string
	}
	beyond := map[string]out{
		"array of itself":          {adjustmentWith(t, record("Node", field("kids", array("Node")))), wire.SchemaBounds{}, "recursive type com.sellable.inventory.Node"},
		"itself through a union":   {adjustmentWith(t, record("L", field("next", []any{"null", "L"}))), wire.SchemaBounds{}, "recursive type"},
		"itself through a map":     {adjustmentWith(t, record("M", field("m", map[string]any{"type": "map", "values": "M"}))), wire.SchemaBounds{}, "recursive type"},
		"the top record itself":    {adjustmentWith(t, []any{"null", "Adjustment"}), wire.SchemaBounds{}, "recursive type com.sellable.inventory.Adjustment"},
		"mutual recursion":         {adjustmentWith(t, record("P", field("q", []any{"null", record("Q", field("p", []any{"null", "P"}))}))), wire.SchemaBounds{}, "recursive type"},
		"array of null":            {adjustmentWith(t, array("null")), wire.SchemaBounds{}, "take no bytes"},
		"array of empty records":   {adjustmentWith(t, array(record("E"))), wire.SchemaBounds{}, "take no bytes"},
		"array of records of null": {adjustmentWith(t, array(record("N", field("a", "null"), field("b", record("E"))))), wire.SchemaBounds{}, "take no bytes"},
		"map of fixed 0":           {adjustmentWith(t, map[string]any{"type": "map", "values": map[string]any{"type": "fixed", "name": "F0", "size": 0}}), wire.SchemaBounds{}, "take no bytes"},
		"nested too deep":          {adjustmentWith(t, nested(31, "int")), wire.SchemaBounds{}, "nested deeper than 32"},
		"too many nodes":           {adjustmentWith(t, record("Wide", field("a", "int"), field("b", "int"))), wire.SchemaBounds{MaxNodes: 8}, "more than 8 types"},
		"too long":                 {wire.Schemas()[wire.SubjectAdjustments], wire.SchemaBounds{MaxBytes: 100}, "bytes, limit 100"},
	}
	for _, a := range hostile.Attacks() {
		if !a.InBounds {
			beyond["attack "+a.Name] = out{hostileSchema(t, a), wire.SchemaBounds{}, a.Problem}
		}
	}
	for name, c := range beyond {
		t.Run(name, func(t *testing.T) {
			err := c.bounds.Check(c.schema)
			if !errors.Is(err, wire.ErrSchemaBounds) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v, want ErrSchemaBounds naming %q", err, c.want)
			}
		})
	}

	if err := wire.DefaultSchemaBounds().Check(`{"type":"record"`); err == nil || errors.Is(err, wire.ErrSchemaBounds) {
		t.Fatalf("Check(unparseable) = %v, want a parse error", err)
	}
}

func TestSchemaBoundsValidate(t *testing.T) {
	if err := wire.DefaultSchemaBounds().Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (wire.SchemaBounds{}).Validate(); err != nil {
		t.Fatalf("zero bounds (defaults) = %v", err)
	}
	err := wire.SchemaBounds{MaxBytes: -1, MaxDepth: -1, MaxNodes: -1}.Validate()
	for _, want := range []string{"max bytes", "max depth", "max nodes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate = %v, want it to name %s", err, want)
		}
	}
	if err := (wire.AvroConfig{MaxBodyBytes: -1, MaxValues: -1, Bounds: wire.SchemaBounds{MaxNodes: -1}}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "max body bytes") || !strings.Contains(err.Error(), "max values") || !strings.Contains(err.Error(), "max nodes") {
		t.Fatalf("AvroConfig.Validate = %v", err)
	}
}

// countingRegistry counts the schema lookups that reach the registry.
type countingRegistry struct {
	wire.SchemaRegistry
	lookups atomic.Int64
}

func (c *countingRegistry) SchemaByID(ctx context.Context, id int) (string, error) {
	c.lookups.Add(1)
	return c.SchemaRegistry.SchemaByID(ctx, id)
}

// Each attack of issue 9 on the stored-event decoder: the schema under
// an event subject is refused by the registry; registered under another
// subject (ids are global, so a message can name it anyway) every
// message written with it is refused with ErrDecode naming the problem,
// before hamba builds a decoder for it. On the code before the bounds,
// the recursive attack kills the test binary with a fatal stack
// overflow, the count attacks never return and the others decode.
func TestAvroHostileWriterSchemas(t *testing.T) {
	for _, r := range registries {
		t.Run(r.name, func(t *testing.T) { testHostileWriterSchemas(t, r.open) })
	}
}

func testHostileWriterSchemas(t *testing.T, open func(testing.TB, *registry.Store) wire.SchemaRegistry) {
	ctx := testCtx(t)
	_, store := newStore(t)
	reg := &countingRegistry{SchemaRegistry: open(t, store)}
	evs := newCodecs(t, reg, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)
	key := sellable.Key{LocationID: "STL", SKU: "hostile"}
	subject := storedSubject(sellable.Adjustment, key)

	for _, a := range hostile.Attacks() {
		t.Run(a.Name, func(t *testing.T) {
			schema := hostileSchema(t, a)
			id, err := reg.Register(ctx, wire.SubjectAdjustments, schema)
			if a.InBounds {
				if err != nil {
					t.Fatalf("register a schema within bounds: %v", err)
				}
			} else {
				if !errors.Is(err, wire.ErrSchemaRejected) || !strings.Contains(err.Error(), a.Problem) {
					t.Fatalf("register under %s = %v, want a refusal for bounds", wire.SubjectAdjustments, err)
				}
				if id, err = reg.Register(ctx, "hostile."+a.Name+"-value", schema); err != nil {
					t.Fatal(err)
				}
			}
			data := hostile.Wire(id, hostile.Body(key.LocationID, key.SKU, 1, a.Value))
			before := reg.lookups.Load()
			for range 2 {
				_, _, err = codecs.DecodeStored(ctx, subject, avroHeader(), data)
				if !errors.Is(err, wire.ErrDecode) || errors.Is(err, wire.ErrRegistry) || !strings.Contains(err.Error(), a.Problem) {
					t.Fatalf("DecodeStored = %v, want ErrDecode naming %q", err, a.Problem)
				}
				if !a.InBounds && !errors.Is(err, wire.ErrSchemaBounds) {
					t.Fatalf("DecodeStored = %v, want ErrSchemaBounds", err)
				}
			}
			if n := reg.lookups.Load() - before; n != 1 {
				t.Fatalf("%d registry lookups for one id, want 1: the verdict is cached", n)
			}
			// The same schema id with a harmless value of the field decodes.
			if a.InBounds {
				good := hostile.Wire(id, hostile.Body(key.LocationID, key.SKU, 3, []byte{0}))
				if ev, _, err := codecs.DecodeStored(ctx, subject, avroHeader(), good); err != nil || ev.Count != 3 {
					t.Fatalf("harmless body = %+v, %v", ev, err)
				}
			}
		})
	}
}

// Bodies are walked within limits before hamba reads them: each way a
// body can lie about its size is refused with ErrDecode.
func TestAvroBodyBounds(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	reg := registry.Local{Store: store}
	evs := newCodecs(t, reg, wire.AvroConfig{MaxValues: 100, MaxBodyBytes: 4096})
	codecs := wire.NewCodecs(evs)
	key := sellable.Key{LocationID: "STL", SKU: "body"}
	subject := storedSubject(sellable.Adjustment, key)
	register := func(typ any) int {
		t.Helper()
		id, err := reg.Register(ctx, "body."+fmt.Sprint(typ)+"-value", adjustmentWith(t, typ))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	ints := register(array("int"))
	strs := register(map[string]any{"type": "map", "values": "string"})
	union := register([]any{"null", "long"})
	enum := register(map[string]any{"type": "enum", "name": "Two", "symbols": []any{"A", "B"}})
	flag := register("boolean")
	fixed := register(map[string]any{"type": "fixed", "name": "F8", "size": 8})

	long := func(v int64) []byte { return hostile.AppendLong(nil, v) }
	cat := func(bs ...[]byte) []byte { return bytesJoin(bs...) }
	cases := []struct {
		name  string
		id    int
		extra []byte
		want  string // "" means it decodes
	}{
		{"ints: empty", ints, long(0), ""},
		{"ints: three", ints, cat(long(3), long(1), long(2), long(3), long(0)), ""},
		{"ints: sized block", ints, cat(long(-2), long(2), long(1), long(2), long(0)), ""},
		{"ints: count 2^62, body ends", ints, long(1 << 62), "block of"},
		{"ints: count beyond the values", ints, cat(long(150), make([]byte, 150), long(0)), "more values than the limit"},
		{"ints: negative count 2^62", ints, cat(long(-(1 << 62)), long(1)), "block of"},
		{"ints: block size lies", ints, cat(long(-2), long(3), long(1), long(2), long(0), long(0)), "block says 3 bytes"},
		{"ints: block size beyond the body", ints, cat(long(-1), long(1<<40), long(1)), "bytes left"},
		{"ints: minimum count", ints, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "out of range"},
		{"ints: varint too long", ints, cat(long(1), []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, long(0)), "varint longer"},
		{"ints: no end of list", ints, cat(long(1), long(5)), "body ends early"},
		{"map: key beyond the body", strs, cat(long(1), long(1000), []byte("k")), "bytes left"},
		{"map: count 2^62", strs, long(1 << 62), "block of"},
		{"union: branch 2 of 2", union, long(2), "union branch 2 of 2"},
		{"union: negative branch", union, long(-1), "union branch -1"},
		{"enum: symbol 2 of 2", enum, long(2), "enum symbol 2 of 2"},
		{"boolean: byte 2", flag, []byte{2}, "boolean byte"},
		{"fixed: short", fixed, make([]byte, 7), "bytes left"},
		{"fixed: exact", fixed, make([]byte, 8), ""},
		{"too long a body", ints, cat(long(-1), long(4096), make([]byte, 4096), long(0)), "limit 4096"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := hostile.Wire(c.id, hostile.Body(key.LocationID, key.SKU, 2, c.extra))
			ev, _, err := codecs.DecodeStored(ctx, subject, avroHeader(), data)
			if c.want == "" {
				if err != nil || ev.Count != 2 {
					t.Fatalf("DecodeStored = %+v, %v", ev, err)
				}
				return
			}
			if !errors.Is(err, wire.ErrDecode) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("DecodeStored = %v, want ErrDecode naming %q", err, c.want)
			}
		})
	}
}

// The decoder asks the registry within the caller's context: a caller
// that has given up gets ErrRegistry (retry later), not a dead letter,
// and its ending does not poison the id for the next caller.
func TestAvroDecodeTakesCallersContext(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	reg := registry.Local{Store: store}
	evs := newCodecs(t, reg, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)
	id, err := reg.Register(ctx, "ctx-value", adjustmentWith(t, array("int")))
	if err != nil {
		t.Fatal(err)
	}
	key := sellable.Key{LocationID: "STL", SKU: "ctx"}
	data := hostile.Wire(id, hostile.Body(key.LocationID, key.SKU, 4, []byte{0}))
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = codecs.DecodeStored(done, storedSubject(sellable.Adjustment, key), avroHeader(), data)
	if !errors.Is(err, wire.ErrRegistry) || !errors.Is(err, context.Canceled) {
		t.Fatalf("DecodeStored(cancelled ctx) = %v, want ErrRegistry wrapping context.Canceled", err)
	}
	if ev, _, err := codecs.DecodeStored(ctx, storedSubject(sellable.Adjustment, key), avroHeader(), data); err != nil || ev.Count != 4 {
		t.Fatalf("DecodeStored = %+v, %v", ev, err)
	}
}

func bytesJoin(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// BenchmarkDecodeAtLimits is the costliest body the default limits let
// through, about: an unknown array field holding as many one-byte items
// as DefaultMaxValues allows, walked and then skipped by hamba.
func BenchmarkDecodeAtLimits(b *testing.B) {
	ctx := b.Context()
	_, store := newStore(b)
	reg := registry.Local{Store: store}
	evs := newCodecs(b, reg, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)
	id, err := reg.Register(ctx, "limits-value", adjustmentWith(b, array("int")))
	if err != nil {
		b.Fatal(err)
	}
	key := sellable.Key{LocationID: "STL", SKU: "limits"}
	n := wire.DefaultMaxValues - 16 // the record's own values
	extra := append(hostile.AppendLong(nil, int64(n)), make([]byte, n)...)
	data := hostile.Wire(id, hostile.Body(key.LocationID, key.SKU, 1, append(extra, 0)))
	subject := storedSubject(sellable.Adjustment, key)
	if _, _, err := codecs.DecodeStored(ctx, subject, avroHeader(), data); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := codecs.DecodeStored(ctx, subject, avroHeader(), data); err != nil {
			b.Fatal(err)
		}
	}
}
