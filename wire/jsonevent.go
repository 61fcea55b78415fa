package wire

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/sellable/inventory/internal/jsontext"
	"github.com/sellable/inventory/sellable"
)

// A hand-written, one-pass decoder of the JSON event body. It accepts
// exactly what json.Unmarshal into the struct
//
//	{LocationID, SKU, Source, Reason, Reference *string; ReservationID string; Count sellable.Quantity}
//
// accepts, and reads the same values (FuzzJSONEventMatchesEncodingJSON
// holds it to that): field names matched exactly, else case-insensitively
// as encoding/json folds them; unknown fields skipped, whatever valid
// JSON they hold; the last of duplicate fields wins; null leaves a string
// field unset; strings unescaped, invalid UTF-8 and lone surrogates
// replaced with U+FFFD; count through sellable.Quantity's own
// UnmarshalJSON except for a plain integer. It exists because the
// reflective decoder cost 9 allocations and ~1 µs per event (BENCHMARKS.md,
// "Allocations on the event path"): here the strings of a body without
// escapes are slices of the body itself, so DecodeStored compares the
// body's key with the subject's without allocating anything.

// maxJSONDepth is encoding/json's nesting limit: deeper input is refused.
const maxJSONDepth = 10000

// jsonString is one string field of a body: set when present and not
// null; b is a slice of the body unless the string needed unescaping.
type jsonString struct {
	b   []byte
	set bool
}

// ptr is the field as the *string of a Body (a copy of the bytes).
func (s jsonString) ptr() *string {
	if !s.set {
		return nil
	}
	v := string(s.b)
	return &v
}

// jsonEvent is a decoded JSON event body, before it is checked against
// its subject.
type jsonEvent struct {
	loc, sku, source, reason, reference jsonString
	// reservationID is a plain string field: null leaves it as it was.
	reservationID []byte
	count         sellable.Quantity
}

func (e *jsonEvent) body() Body {
	return Body{
		LocationID: e.loc.ptr(), SKU: e.sku.ptr(), Count: e.count,
		Source: e.source.ptr(), ReservationID: string(e.reservationID),
		Reason: e.reason.ptr(), Reference: e.reference.ptr(),
	}
}

// jsonField is which field of the body an object key names.
type jsonField int

const (
	fieldUnknown jsonField = iota
	fieldLocationID
	fieldSKU
	fieldCount
	fieldSource
	fieldReservationID
	fieldReason
	fieldReference
)

// jsonFieldOf matches a key as encoding/json does: exactly first, then
// by its case-folded form.
func jsonFieldOf(key []byte) jsonField {
	switch string(key) {
	case "locationId":
		return fieldLocationID
	case "sku":
		return fieldSKU
	case "count":
		return fieldCount
	case "source":
		return fieldSource
	case "reservationId":
		return fieldReservationID
	case "reason":
		return fieldReason
	case "reference":
		return fieldReference
	}
	var arr [32]byte
	switch string(appendFoldedName(arr[:0], key)) {
	case "LOCATIONID":
		return fieldLocationID
	case "SKU":
		return fieldSKU
	case "COUNT":
		return fieldCount
	case "SOURCE":
		return fieldSource
	case "RESERVATIONID":
		return fieldReservationID
	case "REASON":
		return fieldReason
	case "REFERENCE":
		return fieldReference
	}
	return fieldUnknown
}

// appendFoldedName is encoding/json's: ASCII letters upper-cased, any
// other rune replaced by the smallest rune of its fold set (so "ſku"
// and "\u212aey" fold like "SKU" and "KEY").
func appendFoldedName(out, in []byte) []byte {
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

var errJSONEnd = errors.New("unexpected end of JSON input")

// jsonSyntaxError is where the body stops being JSON.
type jsonSyntaxError struct {
	msg string
	off int
}

func (e *jsonSyntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.off) }

// jsonTypeError is a field whose value has the wrong JSON type.
type jsonTypeError struct {
	field, got string
}

func (e *jsonTypeError) Error() string {
	return fmt.Sprintf("cannot unmarshal %s into field %s of type string", e.got, e.field)
}

// jsonReader walks one body.
type jsonReader struct {
	data  []byte
	i     int
	depth int
}

func (r *jsonReader) syntax(what string) error {
	if r.i >= len(r.data) {
		return errJSONEnd
	}
	return &jsonSyntaxError{msg: fmt.Sprintf("invalid character %q %s", r.data[r.i], what), off: r.i}
}

func (r *jsonReader) ws() {
	for r.i < len(r.data) {
		switch r.data[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek is the next byte after whitespace, 0 at the end (or a NUL byte,
// which is never valid where peek is asked).
func (r *jsonReader) peek() byte {
	r.ws()
	if r.i >= len(r.data) {
		return 0
	}
	return r.data[r.i]
}

// decodeJSONEvent reads data into e, which must be zero.
func decodeJSONEvent(data []byte, e *jsonEvent) error {
	r := jsonReader{data: data}
	switch r.peek() {
	case '{':
	case 'n':
		// null into a struct is no error, and sets nothing.
		if err := r.literal("null"); err != nil {
			return err
		}
		return r.end()
	default:
		start := r.i
		if err := r.skipValue(); err != nil {
			return err
		}
		if err := r.end(); err != nil {
			return err
		}
		return &jsonTypeError{field: "(body)", got: jsonKind(data[start])}
	}
	r.i++
	r.depth = 1
	if r.peek() == '}' {
		r.i++
		return r.end()
	}
	for {
		if r.peek() != '"' {
			return r.syntax("looking for beginning of object key string")
		}
		key, err := r.str()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.syntax("after object key")
		}
		r.i++
		r.ws()
		if err := r.field(e, jsonFieldOf(key)); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return r.end()
		default:
			return r.syntax("after object key:value pair")
		}
	}
}

// end insists on nothing but whitespace after the top-level value.
func (r *jsonReader) end() error {
	// Not peek() != 0: a NUL byte after the value is no end.
	if r.ws(); r.i < len(r.data) {
		return r.syntax("after top-level value")
	}
	return nil
}

// field reads the value of one member into e.
func (r *jsonReader) field(e *jsonEvent, f jsonField) error {
	switch f {
	case fieldUnknown:
		return r.skipValue()
	case fieldCount:
		return r.count(&e.count)
	case fieldReservationID:
		var s jsonString
		if err := r.optString(&s, "reservationId"); err != nil {
			return err
		}
		if s.set {
			e.reservationID = s.b
		}
		return nil
	}
	switch f {
	case fieldLocationID:
		return r.optString(&e.loc, "locationId")
	case fieldSKU:
		return r.optString(&e.sku, "sku")
	case fieldSource:
		return r.optString(&e.source, "source")
	case fieldReason:
		return r.optString(&e.reason, "reason")
	default:
		return r.optString(&e.reference, "reference")
	}
}

// optString reads a string or null (unset) into s.
func (r *jsonReader) optString(s *jsonString, name string) error {
	if r.i >= len(r.data) {
		return errJSONEnd
	}
	switch c := r.data[r.i]; c {
	case '"':
		b, err := r.str()
		if err != nil {
			return err
		}
		*s = jsonString{b: b, set: true}
		return nil
	case 'n':
		if err := r.literal("null"); err != nil {
			return err
		}
		*s = jsonString{}
		return nil
	default:
		if err := r.skipValue(); err != nil {
			return err
		}
		return &jsonTypeError{field: name, got: jsonKind(c)}
	}
}

// count reads the count: a plain integer at once, anything else as
// sellable.Quantity's UnmarshalJSON reads it.
func (r *jsonReader) count(q *sellable.Quantity) error {
	start := r.i
	if err := r.skipValue(); err != nil {
		return err
	}
	raw := r.data[start:r.i]
	if v, ok := plainInt(raw); ok {
		*q = sellable.Quantity{Value: v, Set: true}
		return nil
	}
	return q.UnmarshalJSON(raw)
}

// plainInt parses -?(0|[1-9][0-9]*) of at most 18 digits, which cannot
// overflow; anything else is left to Quantity.UnmarshalJSON.
func plainInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	default:
		return "number"
	}
}

func (r *jsonReader) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if r.i >= len(r.data) {
			return errJSONEnd
		}
		if r.data[r.i] != lit[i] {
			return r.syntax("in literal " + lit)
		}
		r.i++
	}
	return nil
}

// skipValue checks and passes over one value of any type; r.i is at its
// first byte.
func (r *jsonReader) skipValue() error {
	if r.i >= len(r.data) {
		return errJSONEnd
	}
	switch c := r.data[r.i]; {
	case c == '{':
		return r.skipComposite('}', true)
	case c == '[':
		return r.skipComposite(']', false)
	case c == '"':
		_, err := r.str()
		return err
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || ('0' <= c && c <= '9'):
		return r.number()
	default:
		return r.syntax("looking for beginning of value")
	}
}

// skipComposite passes over an object (members) or an array.
func (r *jsonReader) skipComposite(closer byte, members bool) error {
	r.depth++
	if r.depth > maxJSONDepth {
		return &jsonSyntaxError{msg: "exceeded max depth", off: r.i}
	}
	r.i++
	if r.peek() == closer {
		r.i++
		r.depth--
		return nil
	}
	for {
		r.ws()
		if members {
			if r.i >= len(r.data) {
				return errJSONEnd
			}
			if r.data[r.i] != '"' {
				return r.syntax("looking for beginning of object key string")
			}
			if _, err := r.str(); err != nil {
				return err
			}
			if r.peek() != ':' {
				return r.syntax("after object key")
			}
			r.i++
			r.ws()
		}
		if err := r.skipValue(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.i++
		case closer:
			r.i++
			r.depth--
			return nil
		default:
			if members {
				return r.syntax("after object key:value pair")
			}
			return r.syntax("after array element")
		}
	}
}

// number passes over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (r *jsonReader) number() error {
	d := r.data
	if d[r.i] == '-' {
		r.i++
	}
	if r.i >= len(d) {
		return errJSONEnd
	}
	switch c := d[r.i]; {
	case c == '0':
		r.i++
	case '1' <= c && c <= '9':
		r.digits()
	default:
		return r.syntax("in numeric literal")
	}
	if r.i < len(d) && d[r.i] == '.' {
		r.i++
		if r.i >= len(d) {
			return errJSONEnd
		}
		if !isDigit(d[r.i]) {
			return r.syntax("after decimal point in numeric literal")
		}
		r.digits()
	}
	if r.i < len(d) && (d[r.i] == 'e' || d[r.i] == 'E') {
		r.i++
		if r.i < len(d) && (d[r.i] == '+' || d[r.i] == '-') {
			r.i++
		}
		if r.i >= len(d) {
			return errJSONEnd
		}
		if !isDigit(d[r.i]) {
			return r.syntax("in exponent of numeric literal")
		}
		r.digits()
	}
	return nil
}

func (r *jsonReader) digits() {
	for r.i < len(r.data) && isDigit(r.data[r.i]) {
		r.i++
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str reads a string at r.i and returns its value: a slice of the body
// when it is plain (no escapes, valid UTF-8), else an unescaped copy.
func (r *jsonReader) str() ([]byte, error) {
	d := r.data
	r.i++
	start := r.i
	plain := true
	for {
		if r.i >= len(d) {
			return nil, errJSONEnd
		}
		c := d[r.i]
		switch {
		case c == '"':
			s := d[start:r.i]
			r.i++
			if plain {
				return s, nil
			}
			b, _ := jsontext.Unquote(make([]byte, 0, len(s)+utf8.UTFMax), s)
			return b, nil
		case c == '\\':
			plain = false
			r.i++
			if r.i >= len(d) {
				return nil, errJSONEnd
			}
			switch d[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if r.i >= len(d) {
						return nil, errJSONEnd
					}
					if !isHex(d[r.i]) {
						return nil, r.syntax("in \\u hexadecimal character escape")
					}
					r.i++
				}
			default:
				return nil, r.syntax("in string escape code")
			}
		case c < ' ':
			return nil, r.syntax("in string literal")
		case c < utf8.RuneSelf:
			r.i++
		default:
			// Non-ASCII: kept as is if valid UTF-8, replaced if not.
			rr, size := utf8.DecodeRune(d[r.i:])
			if rr == utf8.RuneError && size == 1 {
				plain = false
			}
			r.i += size
		}
	}
}

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
