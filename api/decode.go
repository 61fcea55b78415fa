package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/sellable/inventory/internal/jsontext"
	"github.com/sellable/inventory/sellable"
)

// The command decoders read JSON more strictly than encoding/json does,
// because two different bodies must never become the same command:
// encoding/json takes the last of duplicate keys and replaces invalid
// UTF-8 and lone surrogate escapes with U+FFFD, so "a\xff" and "a\xfe"
// would name one key.
var (
	errDuplicateKey = errors.New("appears more than once")
	errNotUTF8      = errors.New("must be valid UTF-8 (no invalid bytes or lone surrogate escapes)")
	errNotObject    = errors.New("must be a JSON object")
)

// readBody reads the whole request body. A body that is cut short, has a
// bad chunk length or times out is the client's fault (400); only the
// size limit keeps its own status (413).
func readBody(body io.Reader) ([]byte, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, readError(err)
	}
	return data, nil
}

// readBodyInto is readBody appending to dst, as io.ReadAll does to a
// buffer of its own.
func readBodyInto(dst []byte, body io.Reader) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := body.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, readError(err)
		}
	}
}

func readError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	return &sellable.FieldError{Field: "body", Err: fmt.Errorf("could not be read: %w", err)}
}

// readObject reads a JSON object's members, each key once, with the
// values left raw. field names the object in errors ("body",
// "commands[3]"); a duplicate key is named on its own or under prefix.
func readObject(data []byte, prefix string) (map[string]json.RawMessage, error) {
	if !json.Valid(data) {
		return nil, errNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNotObject
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		start := dec.InputOffset()
		if _, err := dec.Token(); err != nil {
			return nil, errNotObject
		}
		key, err := unquote(bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n,"))
		if err != nil {
			return nil, &sellable.FieldError{Field: prefix + "body", Err: fmt.Errorf("a key %w", err)}
		}
		if _, dup := fields[key]; dup {
			if key == "" {
				return nil, &sellable.FieldError{Field: prefix + "body", Err: fmt.Errorf(`key "" %w`, errDuplicateKey)}
			}
			return nil, &sellable.FieldError{Field: prefix + key, Err: errDuplicateKey}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errNotObject
		}
		fields[key] = raw
	}
	return fields, nil
}

// readArray splits a JSON array into its raw elements.
func readArray(data []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("must be an array")
	}
	var out []json.RawMessage
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("must be an array")
		}
		out = append(out, raw)
	}
	return out, nil
}

// unquote decodes a JSON string literal that json.Valid accepted, and
// refuses what encoding/json would silently replace with U+FFFD.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errors.New("must be a string")
	}
	raw = raw[1 : len(raw)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		if !utf8.Valid(raw) {
			return "", errNotUTF8
		}
		return string(raw), nil
	}
	out, valid := jsontext.Unquote(make([]byte, 0, len(raw)), raw)
	if !valid {
		return "", errNotUTF8
	}
	return string(out), nil
}

// unknownField refuses the field name (under path, e.g. "lines[0].") that
// a request does not have. A field whose name is empty is named "" in
// quotes, so that the answer still names the field it is about.
func unknownField(path, name string, err error) error {
	if name == "" {
		name = `""`
	}
	return &sellable.FieldError{Field: path + name, Err: err}
}

// The members of a single command's body, in the order they are checked.
const (
	memberLocationID = iota
	memberSKU
	memberCount
	memberReason
	memberReference
)

var commandMembers = [...]string{"locationId", "sku", "count", "reason", "reference"}

// commandBody is a single command's body as read: each known member's
// raw value and whether it was there.
type commandBody struct {
	raw  [len(commandMembers)][]byte
	seen uint8
}

func (b *commandBody) has(i int) bool { return b.seen&(1<<i) != 0 }

// read takes the members of the JSON object data in one pass, with what
// readObject refuses refused alike and in the same order: errNotObject
// for anything but one valid object, then, key by key, a key that is not
// valid UTF-8 or appears twice. Other members than a command's are
// skipped (the request validation refuses them before), their keys
// still checked. Slices of data, no copies.
func (b *commandBody) read(data []byte) error {
	if !json.Valid(data) {
		return errNotObject
	}
	// From here the input is valid JSON: every scan below can rely on
	// closing quotes, brackets and delimiters being there.
	i := skipSpace(data, 0)
	if data[i] != '{' {
		return errNotObject
	}
	var others map[string]struct{}
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		end := stringEnd(data, i)
		key := data[i:end]
		i = skipSpace(data, skipSpace(data, end)+1) // past ':'
		vend := valueEnd(data, i)
		val := data[i:vend]
		i = skipSpace(data, vend)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		m, name, err := memberOf(key)
		if err != nil {
			return &sellable.FieldError{Field: "body", Err: fmt.Errorf("a key %w", err)}
		}
		if m >= 0 {
			if b.seen&(1<<m) != 0 {
				return &sellable.FieldError{Field: commandMembers[m], Err: errDuplicateKey}
			}
			b.raw[m], b.seen = val, b.seen|1<<m
			continue
		}
		if _, dup := others[name]; dup {
			if name == "" {
				return &sellable.FieldError{Field: "body", Err: fmt.Errorf(`key "" %w`, errDuplicateKey)}
			}
			return &sellable.FieldError{Field: name, Err: errDuplicateKey}
		}
		if others == nil {
			others = map[string]struct{}{}
		}
		others[name] = struct{}{}
	}
	return nil
}

// memberOf names the member whose quoted key is raw: the index of a
// command's member, or -1 and the key. A key without escapes is compared
// as it stands, with no string made of it.
func memberOf(raw []byte) (int, string, error) {
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if !utf8.Valid(inner) {
			return -1, "", errNotUTF8
		}
		for m, name := range commandMembers {
			if string(inner) == name {
				return m, "", nil
			}
		}
		return -1, string(inner), nil
	}
	key, err := unquote(raw)
	if err != nil {
		return -1, "", err
	}
	for m, name := range commandMembers {
		if key == name {
			return m, "", nil
		}
	}
	return -1, key, nil
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd is the index just past the string literal at data[i].
func stringEnd(data []byte, i int) int {
	for i++; ; i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// valueEnd is the index just past the JSON value at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for {
			switch data[i] {
			case '"':
				i = stringEnd(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}
