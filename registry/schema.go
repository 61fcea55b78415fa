package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
)

// MaxSubjectLength is the longest subject name accepted, in bytes.
const MaxSubjectLength = 255

// schemaTypeAvro is the only schema type this registry knows.
const schemaTypeAvro = "AVRO"

// parsed is a validated schema with its normalized text: the full JSON
// form (defaults, docs and custom properties kept; whitespace, key order
// and namespace shorthand normalized). Two schemas with the same
// normalized text are the same schema and share an id.
type parsed struct {
	schema      avro.Schema
	normalized  string
	fingerprint string // sha256 hex of normalized
}

// parseSchema validates text as an Avro schema and normalizes it.
func parseSchema(text string, maxBytes int) (parsed, error) {
	if strings.TrimSpace(text) == "" {
		return parsed{}, fmt.Errorf("%w: empty schema", ErrInvalidSchema)
	}
	// hamba would take a bare word such as string for a type name;
	// Confluent requires JSON.
	if !json.Valid([]byte(text)) {
		return parsed{}, fmt.Errorf("%w: not valid JSON", ErrInvalidSchema)
	}
	sch, err := parseAvro(text)
	if err != nil {
		return parsed{}, err
	}
	m, ok := sch.(json.Marshaler)
	if !ok {
		return parsed{}, fmt.Errorf("%w: cannot normalize %T", ErrInvalidSchema, sch)
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return parsed{}, fmt.Errorf("%w: normalize: %v", ErrInvalidSchema, err)
	}
	if len(b) > maxBytes {
		return parsed{}, fmt.Errorf("%w: %d bytes normalized, limit %d", ErrInvalidSchema, len(b), maxBytes)
	}
	sum := sha256.Sum256(b)
	return parsed{schema: sch, normalized: string(b), fingerprint: hex.EncodeToString(sum[:])}, nil
}

// parseAvro parses with a cache of its own: hamba's default cache is
// global, so a schema could otherwise resolve a type name that only some
// other, earlier schema defined.
func parseAvro(text string) (avro.Schema, error) {
	sch, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSchema, err)
	}
	return sch, nil
}

// validateSubject rejects names Confluent would reject, and names too
// long to make a sensible KV key.
func validateSubject(subject string) error {
	switch {
	case strings.TrimSpace(subject) == "":
		return fmt.Errorf("%w: empty", ErrInvalidSubject)
	case len(subject) > MaxSubjectLength:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidSubject, MaxSubjectLength)
	case !utf8.ValidString(subject):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidSubject)
	case strings.IndexFunc(subject, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: holds control characters", ErrInvalidSubject)
	}
	return nil
}
