package kv

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sellable/inventory/sellable"
)

// ErrValueVersion means a stored value has a version this program does
// not know: it was written by a newer one. Reading it as if it were ours
// could drop or misplace fields, so it is refused.
var ErrValueVersion = errors.New("unknown stored value version")

// valueVersion is the version of the stored value this program writes.
const valueVersion = 1

// storedValue is the view's KV value, version 1. It is JSON so that
// `nats kv get` shows it as it is; its field names are those of the
// values written before values carried a version (version 0), plus "v".
//
// It is kv's own type, apart from sellable.Position, so that renaming a
// domain field changes nothing stored. Renaming a stored field is a new
// version: a new struct, valueVersion+1, and an entry in valueUpgrades
// that renames the field in an older value's JSON object, so that values
// already stored still read (see TestValueRenameReadsOlderVersions).
type storedValue struct {
	V          int       `json:"v"`
	LocationID string    `json:"locationId"`
	SKU        string    `json:"sku"`
	Count      int64     `json:"count"`
	Adjusted   int64     `json:"adjusted"`
	Reserved   int64     `json:"reserved"`
	Seq        uint64    `json:"seq"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func (v storedValue) version() int { return v.V }

func toValue(p sellable.Position) storedValue {
	return storedValue{
		V:          valueVersion,
		LocationID: p.LocationID, SKU: p.SKU,
		Count: p.Count, Adjusted: p.OnHand, Reserved: p.Reserved,
		Seq: p.Seq, UpdatedAt: p.UpdatedAt,
	}
}

func (v storedValue) position() sellable.Position {
	return sellable.Position{
		LocationID: v.LocationID, SKU: v.SKU,
		Count: v.Count, OnHand: v.Adjusted, Reserved: v.Reserved,
		Seq: v.Seq, UpdatedAt: v.UpdatedAt,
	}
}

// upgrade turns the JSON object of a value of version n into one of
// version n+1 (renamed fields, defaults of new ones).
type upgrade func(obj map[string]json.RawMessage) error

// valueUpgrades[n] upgrades version n to n+1; nil means the field names
// did not change, only the version did.
var valueUpgrades = []upgrade{
	0: nil, // version 0 is version 1 without "v"
}

// EncodeValue is the stored form of p, in the current version.
func EncodeValue(p sellable.Position) ([]byte, error) {
	return json.Marshal(toValue(p))
}

// DecodeValue reads a stored view value of any version this program
// knows, for readers of the view buckets outside this package.
func DecodeValue(data []byte) (sellable.Position, error) {
	v, err := decodeVersioned[storedValue](data, valueVersion, valueUpgrades)
	if err != nil {
		return sellable.Position{}, err
	}
	return v.position(), nil
}

// decodeVersioned reads data, a stored value of version current or older,
// into T, the layout of version current. A value whose upgrades are all
// nil decodes in one pass; otherwise its JSON object is upgraded one
// version at a time first.
func decodeVersioned[T interface{ version() int }](data []byte, current int, upgrades []upgrade) (T, error) {
	var zero, v T
	if err := json.Unmarshal(data, &v); err != nil {
		return zero, err
	}
	n := v.version()
	if n == current {
		return v, nil
	}
	if n < 0 || n > current || current > len(upgrades) {
		return zero, fmt.Errorf("%w: %d (this program reads up to %d)", ErrValueVersion, n, current)
	}
	var obj map[string]json.RawMessage
	for i := n; i < current; i++ {
		if upgrades[i] == nil {
			continue
		}
		if obj == nil {
			if err := json.Unmarshal(data, &obj); err != nil {
				return zero, err
			}
		}
		if err := upgrades[i](obj); err != nil {
			return zero, fmt.Errorf("upgrade stored value from version %d: %w", i, err)
		}
	}
	if obj != nil {
		b, err := json.Marshal(obj)
		if err != nil {
			return zero, err
		}
		v = zero
		if err := json.Unmarshal(b, &v); err != nil {
			return zero, err
		}
	}
	return v, nil
}
