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

// ParseKeyToken reads the KV keys and republished subjects' last two
// tokens, which anyone allowed to write a bucket can choose: whatever
// the text, it is refused or it is exactly the KeyToken of the key it
// returns (two canonical tokens, nothing more, nothing lost).
func FuzzParseKeyToken(f *testing.F) {
	for _, s := range []string{"STL.123123", "a.b.c", ".", "", "S=2ET.x", "=ZZ.a", "STL.", strings.Repeat("x", 300) + ".y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		k, err := streams.ParseKeyToken(tok)
		if err != nil {
			return
		}
		if back := streams.KeyToken(k); back != tok {
			t.Fatalf("ParseKeyToken(%q) = %+v, whose token is %q", tok, k, back)
		}
	})
}
