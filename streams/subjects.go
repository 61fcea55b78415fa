package streams

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/sellable/inventory/sellable"
)

// kindToken is the subject token of a kind: inventory.<token>.<loc>.<sku>.
func kindToken(k sellable.Kind) string {
	switch k {
	case sellable.Adjustment:
		return "adjustments"
	case sellable.Reservation:
		return "reservations"
	}
	return ""
}

func kindOf(tok string) (sellable.Kind, bool) {
	switch tok {
	case "adjustments":
		return sellable.Adjustment, true
	case "reservations":
		return sellable.Reservation, true
	}
	return 0, false
}

const root = "inventory"

// Key identifies an inventory position: one SKU at one location.
type Key struct {
	LocationID string
	SKU        string
}

// Validate checks both identifiers, naming the field that is wrong.
func (k Key) Validate() error {
	if err := ValidateID(k.LocationID); err != nil {
		return &sellable.FieldError{Field: "locationId", Err: err}
	}
	if err := ValidateID(k.SKU); err != nil {
		return &sellable.FieldError{Field: "sku", Err: err}
	}
	return nil
}

// String is the key as it appears in a KV bucket: "<loc>.<sku>", encoded.
func (k Key) String() string {
	return EncodeToken(k.LocationID) + "." + EncodeToken(k.SKU)
}

func decodeKey(locTok, skuTok string) (Key, error) {
	loc, err := DecodeToken(locTok)
	if err != nil {
		return Key{}, &sellable.FieldError{Field: "locationId", Err: err}
	}
	sku, err := DecodeToken(skuTok)
	if err != nil {
		return Key{}, &sellable.FieldError{Field: "sku", Err: err}
	}
	return Key{LocationID: loc, SKU: sku}, nil
}

// Partition is the partition of k among n, computed exactly as the
// server's partition(n,loc,sku) subject transform does (FNV-1a over the
// concatenated encoded tokens), so services, server and CLI agree.
func (k Key) Partition(n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(EncodeToken(k.LocationID)))
	_, _ = h.Write([]byte(EncodeToken(k.SKU)))
	return int(h.Sum32() % uint32(n))
}

// EventSubject is where commands publish: inventory.<kind>s.<loc>.<sku>.
func EventSubject(kind sellable.Kind, k Key) string {
	return root + "." + kindToken(kind) + "." + k.String()
}

// SellableSubject is where the calculator announces a position's new value.
func SellableSubject(k Key) string {
	return root + ".sellable." + k.String()
}

// StoredEventSubject is where the event stream keeps the events of kind
// for k: the published subject with the partition token p that the
// stream's transform inserts (p is k.Partition of the stream's count).
// Both kinds' stored subjects of one key are that key's whole history.
func StoredEventSubject(kind sellable.Kind, p int, k Key) string {
	return root + "." + kindToken(kind) + "." + strconv.Itoa(p) + "." + k.String()
}

// PartitionFilter selects the stored events of one partition. The stream
// stores inventory.<kind>s.<loc>.<sku> as inventory.<kind>s.<p>.<loc>.<sku>.
func PartitionFilter(p int) string {
	return root + ".*." + strconv.Itoa(p) + ".*.*"
}

// ParseStoredSubject splits a stored event subject into kind, partition
// and key. Tokens must be canonical encodings (see DecodeToken).
func ParseStoredSubject(subject string) (sellable.Kind, int, Key, error) {
	toks := strings.Split(subject, ".")
	if len(toks) != 5 || toks[0] != root {
		return 0, 0, Key{}, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	kind, ok := kindOf(toks[1])
	if !ok {
		return 0, 0, Key{}, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	p, err := strconv.Atoi(toks[2])
	if err != nil {
		return 0, 0, Key{}, fmt.Errorf("%w: partition in %q", ErrBadSubject, subject)
	}
	k, err := decodeKey(toks[3], toks[4])
	if err != nil {
		return 0, 0, Key{}, err
	}
	return kind, p, k, nil
}
