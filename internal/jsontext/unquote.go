// Package jsontext decodes the contents of JSON string literals for the
// project's hand-written one-pass decoders (api's request bodies, wire's
// JSON events), which would otherwise each carry their own copy.
package jsontext

import (
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Unquote appends to dst the string whose literal contents (between the
// quotes, escapes syntactically checked by the caller: every backslash
// starts a complete escape) are s, decoded as encoding/json decodes them:
// invalid UTF-8 and unpaired surrogate escapes become U+FFFD. valid is
// false when any such replacement was made, for callers that refuse what
// encoding/json would silently replace.
func Unquote(dst, s []byte) (out []byte, valid bool) {
	valid = true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			i++
			switch s[i] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+1:])
				i += 5
				if utf16.IsSurrogate(r) {
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(r, hex4(s[i+2:])); dec != unicode.ReplacementChar {
							dst = utf8.AppendRune(dst, dec)
							i += 6
							continue
						}
					}
					r, valid = unicode.ReplacementChar, false
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // " \ /
				dst = append(dst, s[i])
			}
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				valid = false
			}
			i += size
			dst = utf8.AppendRune(dst, r)
		}
	}
	return dst, valid
}

// hex4 decodes the four hex digits at the start of s (checked by the
// caller).
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
