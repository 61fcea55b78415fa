package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSchema(t *testing.T) {
	tests := []struct {
		name string
		in   string
		same string // another spelling of the same schema; "" if none
		err  bool
	}{
		{name: "primitive", in: `"string"`, same: `{"type":"string"}`},
		{name: "whitespace and key order",
			in:   `{"type":"record","name":"E","namespace":"x","fields":[{"name":"a","type":"string"}]}`,
			same: "{\n \"fields\": [ {\"type\": \"string\", \"name\": \"a\"} ],\n \"name\": \"x.E\", \"type\": \"record\"\n}"},
		{name: "nested named reference",
			in: `{"type":"record","name":"E","fields":[{"name":"p","type":{"type":"fixed","name":"F","size":2}},{"name":"q","type":"F"}]}`},
		{name: "logical, enum, map, array, union",
			in: `{"type":"record","name":"E","fields":[
				{"name":"t","type":{"type":"long","logicalType":"timestamp-millis"}},
				{"name":"e","type":{"type":"enum","name":"C","symbols":["A","B"]},"default":"A"},
				{"name":"m","type":{"type":"map","values":"int"}},
				{"name":"l","type":{"type":"array","items":"string"},"doc":"items"},
				{"name":"u","type":["null","string"],"default":null}]}`},
		{name: "empty", in: ``, err: true},
		{name: "not JSON", in: `string`, err: true},
		{name: "bad JSON", in: `{"type":`, err: true},
		{name: "unknown type", in: `{"type":"nope"}`, err: true},
		{name: "undefined reference", in: `{"type":"record","name":"E","fields":[{"name":"a","type":"Missing"}]}`, err: true},
		{name: "bad default", in: `{"type":"record","name":"E","fields":[{"name":"a","type":"int","default":"x"}]}`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseSchema(tt.in, 1<<20)
			if tt.err {
				if !errors.Is(err, ErrInvalidSchema) {
					t.Fatalf("err = %v, want ErrInvalidSchema", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The normalized text is itself a schema that normalizes to itself.
			again := mustParse(t, p.normalized)
			if again.normalized != p.normalized {
				t.Fatalf("normalization not stable:\n%s\n%s", p.normalized, again.normalized)
			}
			if tt.same != "" {
				if other := mustParse(t, tt.same); other.fingerprint != p.fingerprint {
					t.Fatalf("fingerprints differ:\n%s\n%s", p.normalized, other.normalized)
				}
			}
		})
	}
}

func TestParseSchemaKeepsDefaults(t *testing.T) {
	a := mustParse(t, `{"type":"record","name":"E","fields":[{"name":"b","type":"int"}]}`)
	b := mustParse(t, `{"type":"record","name":"E","fields":[{"name":"b","type":"int","default":1}]}`)
	if a.fingerprint == b.fingerprint {
		t.Fatal("schemas differing in a default share a fingerprint")
	}
}

func TestParseSchemaTooLarge(t *testing.T) {
	_, err := parseSchema(`{"type":"record","name":"E","doc":"`+strings.Repeat("x", 100)+`","fields":[]}`, 64)
	if !errors.Is(err, ErrInvalidSchema) {
		t.Fatalf("err = %v, want ErrInvalidSchema", err)
	}
}

func TestValidateSubject(t *testing.T) {
	tests := []struct {
		subject string
		ok      bool
	}{
		{"inventory.adjustments-value", true},
		{"ünïcode / with spaces", true},
		{"", false},
		{"   ", false},
		{strings.Repeat("s", MaxSubjectLength), true},
		{strings.Repeat("s", MaxSubjectLength+1), false},
		{"bad\x00", false},
		{"bad\xff", false},
	}
	for _, tt := range tests {
		err := validateSubject(tt.subject)
		if tt.ok != (err == nil) {
			t.Errorf("validateSubject(%q) = %v, want ok=%v", tt.subject, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("validateSubject(%q) = %v, want ErrInvalidSubject", tt.subject, err)
		}
	}
}
