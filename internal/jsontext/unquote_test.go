package jsontext

import (
	"encoding/json"
	"strconv"
	"testing"
	"unicode/utf8"
)

// Unquote decodes as encoding/json does, and says valid exactly when
// encoding/json replaced nothing: the input is valid UTF-8 and every
// surrogate escape is half of a pair.
func TestUnquote(t *testing.T) {
	cases := []struct {
		lit   string // the literal's contents
		want  string
		valid bool
	}{
		{``, "", true},
		{`plain`, "plain", true},
		{`\"\\\/\b\f\n\r\t`, "\"\\/\b\f\n\r\t", true},
		{`\u00e9\u20AC`, "é€", true},
		{`\ud83d\ude00`, "😀", true},
		{`\ufffd`, "\ufffd", true},       // U+FFFD itself is no replacement
		{"\xef\xbf\xbd", "\ufffd", true}, // nor is it as raw bytes
		{`\ud83d`, "\ufffd", false},
		{`\ude00x`, "\ufffdx", false},
		{`\ud83d\u0041`, "\ufffdA", false},
		{"a\xffb", "a\ufffdb", false},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd", false}, // a surrogate in raw UTF-8
	}
	for _, c := range cases {
		got, valid := Unquote(nil, []byte(c.lit))
		if string(got) != c.want || valid != c.valid {
			t.Errorf("Unquote(%q) = %q, %v; want %q, %v", c.lit, got, valid, c.want, c.valid)
		}
	}
}

// FuzzUnquoteMatchesEncodingJSON: for any literal encoding/json accepts,
// the same string, and valid only where no replacement was needed.
func FuzzUnquoteMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{``, `a`, `\ud83d\ude00`, `\ud83d`, "\xff", `\u0041\n`, "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		var want string
		if json.Unmarshal([]byte(`"`+lit+`"`), &want) != nil {
			return
		}
		got, valid := Unquote(nil, []byte(lit))
		if string(got) != want {
			t.Fatalf("Unquote(%q) = %q, encoding/json %q", lit, got, want)
		}
		if valid && !utf8.ValidString(lit) {
			t.Fatalf("Unquote(%q) valid for invalid UTF-8", lit)
		}
		if !valid && utf8.ValidString(lit) && !hasSurrogateEscape(lit) {
			t.Fatalf("Unquote(%q) invalid for valid UTF-8 without surrogate escapes", lit)
		}
	})
}

func hasSurrogateEscape(lit string) bool {
	for i := 0; i+6 <= len(lit); i++ {
		if lit[i] == '\\' && lit[i+1] == 'u' {
			if v, err := strconv.ParseUint(lit[i+2:i+6], 16, 32); err == nil && v >= 0xd800 && v < 0xe000 {
				return true
			}
		}
	}
	return false
}
