package kv

import (
	"errors"

	"github.com/sellable/inventory/sellable"
)

var (
	// ErrNotFound means no event has reached the position yet.
	ErrNotFound = sellable.ErrNotFound
	// ErrConflict means compare-and-set kept failing: another writer is
	// updating the same keys.
	ErrConflict = errors.New("kv: too many compare-and-set conflicts")
)
