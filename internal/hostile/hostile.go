// Package hostile builds the hostile Avro writer schemas and bodies that
// issue 9 reproduced against the stored-event decoder, so that the codec,
// registry and calculator tests and the fuzz seeds all attack with the
// same inputs. Each attack is one extra field added to the adjustment
// schema (as a newer producer would add one) and the encoding of its
// value appended to an otherwise valid adjustment body.
package hostile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Attack is one hostile extra field.
type Attack struct {
	Name string
	// Field is the field's JSON definition, with a default so that the
	// schema is a BACKWARD-compatible evolution of the adjustment.
	Field map[string]any
	// Value is the Avro encoding of the field's value in a body.
	Value []byte
	// InBounds says the schema itself is harmless and only the body is
	// hostile: the registry accepts it, the decoder refuses the body.
	InBounds bool
	// Problem is a phrase the refusal names.
	Problem string
}

// TreeDepth is the depth of the record tree of the schema bomb: 2^21
// types once expanded, from a schema of 2 KB.
const TreeDepth = 20

// DeepNesting is how deep the union-recursive body nests, a body of 1 MB.
const DeepNesting = 1_000_000

// Attacks are the attacks of issue 9 item 9, and one more found while
// fixing them (a huge count over items that do take bytes).
func Attacks() []Attack {
	return []Attack{
		{
			// Fatal crash loop: hamba's skip decoder for Node is built by
			// unbounded recursion and overflows the stack.
			Name: "recursive",
			Field: map[string]any{"name": "node", "default": map[string]any{"kids": []any{}}, "type": map[string]any{
				"type": "record", "name": "Node", "fields": []any{
					map[string]any{"name": "kids", "type": map[string]any{"type": "array", "items": "Node"}},
				},
			}},
			Value:   []byte{0}, // no kids
			Problem: "recursive type",
		},
		{
			// Hung partition: items that take no bytes, so a count of 2^62
			// is never bounded by the body.
			Name: "zero-width-count",
			Field: map[string]any{"name": "e", "default": []any{}, "type": map[string]any{
				"type": "array", "items": map[string]any{"type": "record", "name": "E", "fields": []any{}},
			}},
			Value:   AppendLong(nil, 1<<62),
			Problem: "take no bytes",
		},
		{
			// Schema bomb: a binary tree of records, 2^(depth+1) decoder
			// nodes.
			Name:    "tree-bomb",
			Field:   map[string]any{"name": "tree", "default": nil, "type": []any{"null", tree(TreeDepth)}},
			Value:   []byte{2}, // the tree branch; its leaves are empty records
			Problem: "types once named types are expanded",
		},
		{
			// A body nesting a union-recursive field a million deep.
			Name: "union-deep",
			Field: map[string]any{"name": "deep", "default": nil, "type": []any{"null", map[string]any{
				"type": "record", "name": "U", "fields": []any{
					map[string]any{"name": "next", "type": []any{"null", "U"}},
				},
			}}},
			Value:   deep(DeepNesting),
			Problem: "recursive type",
		},
		{
			// A legitimate array of ints with a declared count of 2^62
			// and no items: hamba's skip decoder loops over the count
			// even after the body ends.
			Name:     "long-count",
			Field:    map[string]any{"name": "ints", "default": []any{}, "type": map[string]any{"type": "array", "items": "int"}},
			Value:    AppendLong(nil, 1<<62),
			InBounds: true,
			Problem:  "block of",
		},
	}
}

// tree is record T<depth>{l: T<depth-1>, r: T<depth-1>}, each level
// defined once and referred to by name the second time.
func tree(depth int) map[string]any {
	t := map[string]any{"type": "record", "name": "T0", "fields": []any{}}
	for i := 1; i <= depth; i++ {
		prev := fmt.Sprintf("T%d", i-1)
		t = map[string]any{"type": "record", "name": fmt.Sprintf("T%d", i), "fields": []any{
			map[string]any{"name": "l", "type": t},
			map[string]any{"name": "r", "type": prev},
		}}
	}
	return t
}

// deep is the union branch U, n times nested, ending in null.
func deep(n int) []byte {
	b := make([]byte, 0, n+2)
	b = append(b, 2) // the U branch of the field
	for range n - 1 {
		b = append(b, 2) // next: U
	}
	return append(b, 0) // next: null
}

// Schema is base (an Avro record schema in JSON) with a's field appended.
func (a Attack) Schema(base string) (string, error) {
	return WithField(base, a.Field)
}

// WithField is the record schema base with field appended.
func WithField(base string, field map[string]any) (string, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(base), &s); err != nil {
		return "", err
	}
	fields, ok := s["fields"].([]any)
	if !ok {
		return "", fmt.Errorf("hostile: base schema has no fields")
	}
	s["fields"] = append(fields, field)
	b, err := json.Marshal(s)
	return string(b), err
}

// Body is an adjustment record body (locationId, sku, count; eventId,
// source, reason and reference null) followed by extra, the encoding of the fields appended to
// the schema.
func Body(loc, sku string, count int64, extra []byte) []byte {
	b := appendString(nil, loc)
	b = appendString(b, sku)
	b = AppendLong(b, count)
	b = append(b, 0, 0, 0, 0) // eventId, source, reason, reference: null
	return append(b, extra...)
}

// Wire is body in the Confluent wire format with schema id.
func Wire(id int, body []byte) []byte {
	out := make([]byte, 5, 5+len(body))
	binary.BigEndian.PutUint32(out[1:], uint32(id))
	return append(out, body...)
}

// AppendLong appends v in Avro's zig-zag varint encoding.
func AppendLong(b []byte, v int64) []byte {
	return binary.AppendUvarint(b, uint64(v<<1)^uint64(v>>63))
}

func appendString(b []byte, s string) []byte {
	b = AppendLong(b, int64(len(s)))
	return append(b, s...)
}
