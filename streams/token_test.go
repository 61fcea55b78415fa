package streams_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func TestEncodeTokenIsSafeAndReversible(t *testing.T) {
	cases := []struct{ id, tok string }{
		{"STL", "STL"},
		{"123123", "123123"},
		{"a-b_c", "a-b_c"},
		{"a.b", "a=2Eb"},
		{"*", "=2A"},
		{">", "=3E"},
		{"x y", "x=20y"},
		{"=", "=3D"},
		{"ü", "=C3=BC"},
	}
	for _, c := range cases {
		if got := streams.EncodeToken(c.id); got != c.tok {
			t.Errorf("EncodeToken(%q) = %q, want %q", c.id, got, c.tok)
		}
		back, err := streams.DecodeToken(c.tok)
		if err != nil || back != c.id {
			t.Errorf("DecodeToken(%q) = %q, %v; want %q", c.tok, back, err, c.id)
		}
	}
}

func TestDecodeTokenRejectsNonCanonical(t *testing.T) {
	for _, tok := range []string{"=41", "=2e", "a=2", "=ZZ", "a.b", "a b", "", "=00", "=FF", "a=C2=85b"} { // =C2=85 is NEL, a C1 control
		if _, err := streams.DecodeToken(tok); err == nil {
			t.Errorf("DecodeToken(%q) accepted", tok)
		}
	}
}

func FuzzTokenRoundTrip(f *testing.F) {
	for _, s := range []string{"STL", "a.b*>", "東京 1", "=41", "%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if sellable.ValidateID(id) != nil {
			return
		}
		tok := streams.EncodeToken(id)
		if strings.ContainsAny(tok, ".*> \t\r\n") || !utf8.ValidString(tok) {
			t.Fatalf("token %q of %q holds subject syntax", tok, id)
		}
		back, err := streams.DecodeToken(tok)
		if err != nil || back != id {
			t.Fatalf("round trip of %q: %q, %v", id, back, err)
		}
	})
}
