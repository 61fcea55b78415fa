package streams

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/sellable/inventory/sellable"
)

// escape starts an escaped byte in a token. It is legal both in a NATS
// subject token and in a JetStream KV key, and it is not alphanumeric, so
// plain identifiers read the same encoded and decoded.
const escape = '='

const hexDigits = "0123456789ABCDEF"

// plain reports whether b passes through EncodeToken unchanged.
func plain(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_'
}

// EncodeToken turns an identifier into a subject token and KV key segment.
// Bytes outside [A-Za-z0-9_-] become "=HH" (upper-case hex), so the result
// holds no '.', '*', '>', whitespace or other syntax and decodes back
// exactly. This is the only place identifiers are encoded.
func EncodeToken(id string) string {
	n := 0
	for i := 0; i < len(id); i++ {
		if !plain(id[i]) {
			n++
		}
	}
	if n == 0 {
		return id
	}
	var b strings.Builder
	b.Grow(len(id) + 2*n)
	for i := 0; i < len(id); i++ {
		c := id[i]
		if plain(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(escape)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0x0f])
	}
	return b.String()
}

// DecodeToken reverses EncodeToken. It accepts only the canonical encoding:
// a token that decodes but would encode differently (say "=41" for "A")
// would hash to another partition than its identifier, so it is an error.
func DecodeToken(tok string) (string, error) {
	if strings.IndexByte(tok, escape) < 0 {
		if err := sellable.ValidateID(tok); err != nil {
			return "", err
		}
		for i := 0; i < len(tok); i++ {
			if !plain(tok[i]) {
				return "", fmt.Errorf("%w: byte %q must be escaped", ErrBadToken, tok[i])
			}
		}
		return tok, nil
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != escape {
			out = append(out, c)
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("%w: truncated escape", ErrBadToken)
		}
		hi, lo := unhex(tok[i+1]), unhex(tok[i+2])
		if hi < 0 || lo < 0 {
			return "", fmt.Errorf("%w: bad escape %q", ErrBadToken, tok[i:i+3])
		}
		out = append(out, byte(hi<<4|lo))
		i += 2
	}
	id := string(out)
	if err := sellable.ValidateID(id); err != nil {
		return "", err
	}
	if EncodeToken(id) != tok {
		return "", fmt.Errorf("%w: %q is not the canonical encoding", ErrBadToken, tok)
	}
	return id, nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// KeyToken is k as it appears in a KV bucket and at the end of its
// subjects: "<loc>.<sku>", each identifier encoded by EncodeToken.
func KeyToken(k sellable.Key) string {
	return EncodeToken(k.LocationID) + "." + EncodeToken(k.SKU)
}

// ParseKeyToken is the key whose KeyToken is tok, refusing anything that
// is not exactly two canonical tokens.
func ParseKeyToken(tok string) (sellable.Key, error) {
	loc, sku, ok := strings.Cut(tok, ".")
	if !ok || strings.Contains(sku, ".") {
		return sellable.Key{}, fmt.Errorf("key %q: want <location>.<sku>", tok)
	}
	return decodeKey(loc, sku)
}

// Partition is the partition of k among n, computed exactly as the
// server's partition(n,loc,sku) subject transform does (FNV-1a over the
// concatenated encoded tokens), so services, server and CLI agree. It
// lives here, beside EncodeToken, because it hashes the encoded tokens:
// it is part of the subject syntax, not of the domain.
func Partition(k sellable.Key, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(EncodeToken(k.LocationID)))
	_, _ = h.Write([]byte(EncodeToken(k.SKU)))
	return int(h.Sum32() % uint32(n))
}
