package registry

import (
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// Level is a Confluent compatibility level: which earlier versions a new
// schema is checked against, and in which direction.
type Level string

// Compatibility levels, as Confluent spells them.
const (
	None               Level = "NONE"
	Backward           Level = "BACKWARD"
	BackwardTransitive Level = "BACKWARD_TRANSITIVE"
	Forward            Level = "FORWARD"
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL"
	FullTransitive     Level = "FULL_TRANSITIVE"
)

// ParseLevel accepts a level in any letter case.
func ParseLevel(s string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(s)))
	switch l {
	case None, Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive:
		return l, nil
	}
	return "", fmt.Errorf("%w: %q", ErrInvalidLevel, s)
}

// backward: the new schema must read data written with the old ones.
func (l Level) backward() bool {
	return l == Backward || l == BackwardTransitive || l == Full || l == FullTransitive
}

// forward: the old schemas must read data written with the new one.
func (l Level) forward() bool {
	return l == Forward || l == ForwardTransitive || l == Full || l == FullTransitive
}

// transitive: check against every version, not only the latest.
func (l Level) transitive() bool {
	return l == BackwardTransitive || l == ForwardTransitive || l == FullTransitive
}

// versioned is an earlier schema of a subject, for error messages.
type versioned struct {
	version int
	schema  avro.Schema
}

// checkCompatible reports whether candidate may follow existing (oldest
// first) under level. Non-transitive levels look at the last one only.
func checkCompatible(level Level, candidate avro.Schema, existing []versioned) error {
	if level == None || len(existing) == 0 {
		return nil
	}
	if !level.transitive() {
		existing = existing[len(existing)-1:]
	}
	for _, old := range existing {
		// A fresh checker per pair: hamba caches verdicts by the schemas'
		// parsing-canonical fingerprints, which ignore defaults, and
		// defaults are exactly what decides many evolutions.
		if level.backward() {
			if err := avro.NewSchemaCompatibility().Compatible(candidate, old.schema); err != nil {
				return fmt.Errorf("%w: new schema cannot read data written with version %d (%s): %v",
					ErrIncompatible, old.version, level, err)
			}
		}
		if level.forward() {
			if err := avro.NewSchemaCompatibility().Compatible(old.schema, candidate); err != nil {
				return fmt.Errorf("%w: version %d cannot read data written with the new schema (%s): %v",
					ErrIncompatible, old.version, level, err)
			}
		}
	}
	return nil
}
