package sellable

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest location or SKU accepted, in bytes of UTF-8.
// An encoded token can be up to three times as long.
const MaxIDLength = 128

var (
	// ErrEmptyID means a location or SKU is missing or empty.
	ErrEmptyID = errors.New("must not be empty")
	// ErrIDTooLong means a location or SKU is longer than MaxIDLength bytes.
	ErrIDTooLong = errors.New("too long")
	// ErrIDNotUTF8 means a location or SKU is not valid UTF-8.
	ErrIDNotUTF8 = errors.New("must be valid UTF-8")
	// ErrIDControl means a location or SKU holds a control character.
	ErrIDControl = errors.New("must not contain control characters")
)

// Key identifies an inventory position: one SKU at one location. How a key
// is spelled in a subject or a KV key is the transport's business
// (streams.KeyToken); the domain only says which keys are valid.
type Key struct {
	LocationID string
	SKU        string
}

// Validate checks both identifiers, naming the field that is wrong.
func (k Key) Validate() error {
	if err := ValidateID(k.LocationID); err != nil {
		return &FieldError{Field: "locationId", Err: err}
	}
	if err := ValidateID(k.SKU); err != nil {
		return &FieldError{Field: "sku", Err: err}
	}
	return nil
}

// ValidateID checks a location or SKU: non-empty, valid UTF-8, at most
// MaxIDLength bytes, and free of control characters.
func ValidateID(id string) error {
	switch {
	case id == "":
		return ErrEmptyID
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrIDTooLong, len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return ErrIDNotUTF8
	}
	for _, r := range id {
		// C0, DEL and C1 (U+0080–U+009F, e.g. NEL U+0085): Unicode's Cc.
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: control character %U", ErrIDControl, r)
		}
	}
	return nil
}
