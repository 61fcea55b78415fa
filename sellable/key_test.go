package sellable_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sellable/inventory/sellable"
)

func TestValidateID(t *testing.T) {
	cases := []struct {
		id   string
		want error
	}{
		{"STL", nil},
		{"", sellable.ErrEmptyID},
		{strings.Repeat("x", sellable.MaxIDLength), nil},
		{strings.Repeat("x", sellable.MaxIDLength+1), sellable.ErrIDTooLong},
		{"a\xffb", sellable.ErrIDNotUTF8},
		{"a\nb", sellable.ErrIDControl},
		{"a\x7fb", sellable.ErrIDControl},
		{"a\u0085b", sellable.ErrIDControl}, // NEL, a C1 control
		{"a\u0080b", sellable.ErrIDControl},
		{"a\u009fb", sellable.ErrIDControl},
		{"a\u00a0b", nil}, // no-break space is text
	}
	for _, c := range cases {
		if err := sellable.ValidateID(c.id); !errors.Is(err, c.want) {
			t.Errorf("ValidateID(%q) = %v, want %v", c.id, err, c.want)
		}
	}
}
