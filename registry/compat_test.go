package registry

import (
	"errors"
	"testing"
)

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{in: "NONE", want: None},
		{in: "backward", want: Backward},
		{in: " Full_Transitive ", want: FullTransitive},
		{in: "FORWARD_TRANSITIVE", want: ForwardTransitive},
		{in: "", wantErr: true},
		{in: "SIDEWAYS", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidLevel) {
					t.Fatalf("err = %v, want ErrInvalidLevel", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseLevel(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// Schemas of one record evolving. "b" with a default can be read from data
// without it; "b" without one cannot.
const (
	recA        = `{"type":"record","name":"E","fields":[{"name":"a","type":"string"}]}`
	recAB       = `{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}`
	recABdef    = `{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"b","type":["null","int"],"default":null}]}`
	recAint     = `{"type":"record","name":"E","fields":[{"name":"a","type":"int"}]}`
	recOther    = `{"type":"record","name":"Other","fields":[{"name":"a","type":"string"}]}`
	recAlongStr = `{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"c","type":"long","default":0}]}`
)

func mustParse(t *testing.T, s string) parsed {
	t.Helper()
	p, err := parseSchema(s, 1<<20)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return p
}

func TestCheckCompatible(t *testing.T) {
	tests := []struct {
		name      string
		level     Level
		existing  []string // oldest first
		candidate string
		ok        bool
	}{
		{"none allows anything", None, []string{recA}, recOther, true},
		{"first version", Backward, nil, recA, true},
		{"backward: add field with default", Backward, []string{recA}, recABdef, true},
		{"backward: add field without default", Backward, []string{recA}, recAB, false},
		{"backward: remove field", Backward, []string{recAB}, recA, true},
		{"backward: change type", Backward, []string{recA}, recAint, false},
		{"backward: rename record", Backward, []string{recA}, recOther, false},
		{"forward: add field without default", Forward, []string{recA}, recAB, true},
		{"forward: remove field without default", Forward, []string{recAB}, recA, false},
		{"full: add field with default", Full, []string{recA}, recABdef, true},
		{"full: add field without default", Full, []string{recA}, recAB, false},
		// recA -> recAB (old reader can ignore b) -> recAlongStr drops b:
		// fine against the latest only, not against all.
		{"forward: only latest", Forward, []string{recAint, recA}, recAlongStr, true},
		{"forward transitive: all", ForwardTransitive, []string{recAint, recA}, recAlongStr, false},
		{"backward: only latest", Backward, []string{recAint, recA}, recABdef, true},
		{"backward transitive: all", BackwardTransitive, []string{recAint, recA}, recABdef, false},
		{"full transitive: all", FullTransitive, []string{recA, recABdef}, recAlongStr, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var existing []versioned
			for i, s := range tt.existing {
				existing = append(existing, versioned{version: i + 1, schema: mustParse(t, s).schema})
			}
			err := checkCompatible(tt.level, mustParse(t, tt.candidate).schema, existing)
			if tt.ok && err != nil {
				t.Fatalf("want compatible, got %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrIncompatible) {
				t.Fatalf("want ErrIncompatible, got %v", err)
			}
		})
	}
}

// A shared checker would remember a verdict for two schemas that differ
// only in defaults, which parsing canonical form ignores.
func TestCheckCompatibleDefaultsMatter(t *testing.T) {
	noDefault := `{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"}]}`
	withDefault := `{"type":"record","name":"E","fields":[{"name":"a","type":"string"},{"name":"b","type":"int","default":1}]}`
	old := []versioned{{version: 1, schema: mustParse(t, recA).schema}}
	if err := checkCompatible(Backward, mustParse(t, noDefault).schema, old); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("without default: %v, want ErrIncompatible", err)
	}
	if err := checkCompatible(Backward, mustParse(t, withDefault).schema, old); err != nil {
		t.Fatalf("with default: %v", err)
	}
}
