package wire

import (
	"errors"
	"fmt"
	"math"

	"github.com/hamba/avro/v2"
)

// Why writer schemas are bounded at all: a reader resolves every message
// against the writer schema its id names, and hamba builds a decoder for
// the whole writer schema, skipping the fields the reader does not know.
// Whoever can register a schema therefore chooses the decoder's shape.
// Three shapes cost without limit:
//
//   - recursion (a named type reaching itself through a field, array, map
//     or union): hamba's skip decoder is built by unbounded recursion
//     and overflows the stack, a fatal error Go cannot recover from; and
//     even where it is not skipped, a body can nest it as deep as it has
//     bytes;
//   - expansion: a named type used twice per level costs 2^depth decoder
//     nodes from a schema of a few kilobytes;
//   - arrays or maps of items that take no bytes (null, empty records,
//     fixed of size 0): a declared count of 2^62 is then never bounded by
//     the body and the decoder spins.
//
// So a writer schema is checked before any decoder is built for it, by
// the registry when it is registered under an event subject and again by
// the decoder when an id is first resolved (ids are global: a message can
// name a schema registered under any subject). Bodies are bounded
// separately, by the body walk below.

// SchemaBounds limits the writer schemas the Avro codecs decode with. A
// zero field takes DefaultSchemaBounds' value.
type SchemaBounds struct {
	// MaxBytes is the longest schema text, in bytes.
	MaxBytes int
	// MaxDepth is the deepest nesting of types (a record's field, an
	// array's items, a union's branch each go one level down).
	MaxDepth int
	// MaxNodes is how many types the schema holds once every use of a
	// named type is expanded: what a decoder for it costs.
	MaxNodes int
}

// DefaultSchemaBounds are far above what an event schema needs (the
// embedded ones have depth 3 and 7 nodes) and far below what hurts.
func DefaultSchemaBounds() SchemaBounds {
	return SchemaBounds{MaxBytes: 64 << 10, MaxDepth: 32, MaxNodes: 4096}
}

func (b SchemaBounds) withDefaults() SchemaBounds {
	d := DefaultSchemaBounds()
	if b.MaxBytes == 0 {
		b.MaxBytes = d.MaxBytes
	}
	if b.MaxDepth == 0 {
		b.MaxDepth = d.MaxDepth
	}
	if b.MaxNodes == 0 {
		b.MaxNodes = d.MaxNodes
	}
	return b
}

// Validate reports every bound that is out of range.
func (b SchemaBounds) Validate() error {
	var errs []error
	if b.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("wire: schema max bytes %d must not be negative", b.MaxBytes))
	}
	if b.MaxDepth < 0 {
		errs = append(errs, fmt.Errorf("wire: schema max depth %d must not be negative", b.MaxDepth))
	}
	if b.MaxNodes < 0 {
		errs = append(errs, fmt.Errorf("wire: schema max nodes %d must not be negative", b.MaxNodes))
	}
	return errors.Join(errs...)
}

// Check parses an Avro schema and reports, wrapping ErrSchemaBounds, the
// first bound it breaks: too long, too deep, too many nodes once
// expanded, recursive, or an array or map whose items take no bytes. A
// schema that does not parse is an error that does not wrap
// ErrSchemaBounds.
func (b SchemaBounds) Check(text string) error {
	_, err := b.parse(text)
	return err
}

// parse is Check returning the parsed schema.
func (b SchemaBounds) parse(text string) (avro.Schema, error) {
	b = b.withDefaults()
	if len(text) > b.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrSchemaBounds, len(text), b.MaxBytes)
	}
	s, err := parseAvro(text)
	if err != nil {
		return nil, fmt.Errorf("schema does not parse: %w", err)
	}
	w := schemaWalk{bounds: b, open: map[string]bool{}}
	if _, err := w.visit(s, 1, rootPath(s)); err != nil {
		return nil, err
	}
	return s, nil
}

func rootPath(s avro.Schema) string {
	if n, ok := s.(avro.NamedSchema); ok {
		return n.Name()
	}
	return string(s.Type())
}

// schemaWalk visits a schema with every named type expanded where it is
// used, as hamba's decoders are built, stopping at the first bound
// broken, so its own cost is bounded by MaxNodes.
type schemaWalk struct {
	bounds SchemaBounds
	nodes  int
	// open holds the named types being visited: meeting one again is
	// recursion.
	open map[string]bool
}

// maxWidth caps a minimum width: all that matters is zero or not, and
// sums of fixed sizes must not overflow.
const maxWidth = math.MaxInt32

// visit checks s at depth and returns how many bytes its encoding takes
// at least.
func (w *schemaWalk) visit(s avro.Schema, depth int, path string) (int, error) {
	if ref, ok := s.(*avro.RefSchema); ok {
		s = ref.Schema()
		if s == nil {
			return 0, fmt.Errorf("%w: %s names an undefined type", ErrSchemaBounds, path)
		}
	}
	w.nodes++
	if w.nodes > w.bounds.MaxNodes {
		return 0, fmt.Errorf("%w: more than %d types once named types are expanded (at %s)", ErrSchemaBounds, w.bounds.MaxNodes, path)
	}
	if depth > w.bounds.MaxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d (at %s)", ErrSchemaBounds, w.bounds.MaxDepth, path)
	}
	if n, ok := s.(avro.NamedSchema); ok {
		name := n.FullName()
		if w.open[name] {
			return 0, fmt.Errorf("%w: recursive type %s (at %s)", ErrSchemaBounds, name, path)
		}
		w.open[name] = true
		defer delete(w.open, name)
	}
	switch s := s.(type) {
	case *avro.RecordSchema:
		width := 0
		for _, f := range s.Fields() {
			fw, err := w.visit(f.Type(), depth+1, path+"."+f.Name())
			if err != nil {
				return 0, err
			}
			width = min(width+fw, maxWidth)
		}
		return width, nil
	case *avro.ArraySchema:
		return 1, w.items(s.Items(), depth, path+"[]")
	case *avro.MapSchema:
		return 1, w.items(s.Values(), depth, path+"{}")
	case *avro.UnionSchema:
		for i, t := range s.Types() {
			if _, err := w.visit(t, depth+1, fmt.Sprintf("%s|%d", path, i)); err != nil {
				return 0, err
			}
		}
		return 1, nil // the branch index
	case *avro.FixedSchema:
		return min(s.Size(), maxWidth), nil
	case *avro.EnumSchema:
		return 1, nil
	case *avro.NullSchema:
		return 0, nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Float:
			return 4, nil
		case avro.Double:
			return 8, nil
		default: // boolean, int, long, string, bytes
			return 1, nil
		}
	default:
		return 0, fmt.Errorf("%w: unsupported type %s (at %s)", ErrSchemaBounds, s.Type(), path)
	}
}

// items checks the items of an array or map: each must take at least a
// byte, so that a declared count is bounded by the bytes of the body.
func (w *schemaWalk) items(s avro.Schema, depth int, path string) error {
	width, err := w.visit(s, depth+1, path)
	if err != nil {
		return err
	}
	if width == 0 {
		return fmt.Errorf("%w: items of %s take no bytes, so their count is not bounded by the body", ErrSchemaBounds, path)
	}
	return nil
}

// bodyWalk checks a body against its (bounded) writer schema before
// hamba reads it, so that what hamba does next is bounded too: every
// declared count fits in the bytes left and in the values left, every
// length fits in the bytes left, every union branch and enum symbol
// exists. hamba's skip decoder does none of this (it loops over a
// declared count even after the body has ended), so a body it would spin
// on is refused here in time proportional to its length. Recursion depth
// is the schema's depth, which SchemaBounds limits.
type bodyWalk struct {
	data []byte
	pos  int
	// values left: every value read, down to each null, costs one.
	values int
}

var errBodyShort = errors.New("body ends early")

func (w *bodyWalk) value(s avro.Schema) error {
	if ref, ok := s.(*avro.RefSchema); ok {
		if s = ref.Schema(); s == nil {
			return errors.New("undefined type")
		}
	}
	if w.values--; w.values < 0 {
		return errors.New("more values than the limit")
	}
	switch s := s.(type) {
	case *avro.RecordSchema:
		for _, f := range s.Fields() {
			if err := w.value(f.Type()); err != nil {
				return fmt.Errorf("%s: %w", f.Name(), err)
			}
		}
		return nil
	case *avro.ArraySchema:
		return w.blocks(s.Items(), false)
	case *avro.MapSchema:
		return w.blocks(s.Values(), true)
	case *avro.UnionSchema:
		i, err := w.long(10)
		if err != nil {
			return err
		}
		types := s.Types()
		if i < 0 || i >= int64(len(types)) {
			return fmt.Errorf("union branch %d of %d", i, len(types))
		}
		return w.value(types[i])
	case *avro.FixedSchema:
		return w.skip(int64(s.Size()))
	case *avro.EnumSchema:
		i, err := w.long(5)
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(s.Symbols())) {
			return fmt.Errorf("enum symbol %d of %d", i, len(s.Symbols()))
		}
		return nil
	case *avro.NullSchema:
		return nil
	case *avro.PrimitiveSchema:
		switch s.Type() {
		case avro.Boolean:
			if w.pos >= len(w.data) {
				return errBodyShort
			}
			if b := w.data[w.pos]; b > 1 {
				return fmt.Errorf("boolean byte %#02x", b)
			}
			w.pos++
			return nil
		case avro.Int:
			_, err := w.long(5)
			return err
		case avro.Long:
			_, err := w.long(10)
			return err
		case avro.Float:
			return w.skip(4)
		case avro.Double:
			return w.skip(8)
		case avro.String, avro.Bytes:
			n, err := w.long(10)
			if err != nil {
				return err
			}
			return w.skip(n)
		}
	}
	return fmt.Errorf("unsupported type %s", s.Type())
}

// blocks walks the blocks of an array or map. A block declares its item
// count, negative when followed by its size in bytes (which must then be
// exact, since hamba's skip decoder trusts it and its other decoders do
// not); a zero count ends the list.
func (w *bodyWalk) blocks(items avro.Schema, keyed bool) error {
	for {
		n, err := w.long(10)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		size := int64(-1)
		if n < 0 {
			if n == math.MinInt64 {
				return errors.New("block count out of range")
			}
			n = -n
			if size, err = w.long(10); err != nil {
				return err
			}
			if size < 0 || size > int64(len(w.data)-w.pos) {
				return fmt.Errorf("block of %d bytes, %d bytes left", size, len(w.data)-w.pos)
			}
		}
		// Each item takes a byte at least (SchemaBounds refuses items that
		// do not), and a value at least.
		if left := int64(len(w.data) - w.pos); n > left {
			return fmt.Errorf("block of %d items, %d bytes left", n, left)
		}
		if n > int64(w.values) {
			return fmt.Errorf("block of %d items, more values than the limit", n)
		}
		start := w.pos
		for range n {
			if keyed {
				k, err := w.long(10)
				if err != nil {
					return err
				}
				if err := w.skip(k); err != nil {
					return err
				}
			}
			if err := w.value(items); err != nil {
				return err
			}
		}
		if size >= 0 && int64(w.pos-start) != size {
			return fmt.Errorf("block says %d bytes, its items take %d", size, w.pos-start)
		}
	}
}

// long reads a zig-zag varint of at most max bytes.
func (w *bodyWalk) long(max int) (int64, error) {
	var v uint64
	for i := range max {
		if w.pos >= len(w.data) {
			return 0, errBodyShort
		}
		b := w.data[w.pos]
		w.pos++
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			return int64(v>>1) ^ -int64(v&1), nil
		}
	}
	return 0, fmt.Errorf("varint longer than %d bytes", max)
}

func (w *bodyWalk) skip(n int64) error {
	if n < 0 {
		return fmt.Errorf("negative length %d", n)
	}
	if n > int64(len(w.data)-w.pos) {
		return fmt.Errorf("length %d, %d bytes left: %w", n, len(w.data)-w.pos, errBodyShort)
	}
	w.pos += int(n)
	return nil
}
