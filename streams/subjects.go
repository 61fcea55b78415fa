package streams

import (
	"fmt"
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

func decodeKey(locTok, skuTok string) (sellable.Key, error) {
	loc, err := DecodeToken(locTok)
	if err != nil {
		return sellable.Key{}, &sellable.FieldError{Field: "locationId", Err: err}
	}
	sku, err := DecodeToken(skuTok)
	if err != nil {
		return sellable.Key{}, &sellable.FieldError{Field: "sku", Err: err}
	}
	return sellable.Key{LocationID: loc, SKU: sku}, nil
}

// EventSubject is where commands publish: inventory.<kind>s.<loc>.<sku>.
func EventSubject(kind sellable.Kind, k sellable.Key) string {
	return root + "." + kindToken(kind) + "." + KeyToken(k)
}

// SellableSubject is where the calculator announces a position's new value.
func SellableSubject(k sellable.Key) string {
	return root + ".sellable." + KeyToken(k)
}

// SellableSubjectFilter selects the sellable changes of one location,
// one SKU, both or neither: an empty identifier matches any.
func SellableSubjectFilter(locationID, sku string) string {
	l, s := "*", "*"
	if locationID != "" {
		l = EncodeToken(locationID)
	}
	if sku != "" {
		s = EncodeToken(sku)
	}
	return root + ".sellable." + l + "." + s
}

// StoredEventSubject is where the event stream keeps the events of kind
// for k: the published subject with the partition token p that the
// stream's transform inserts (p is Partition(k, n) for n the stream's count).
// Both kinds' stored subjects of one key are that key's whole history.
func StoredEventSubject(kind sellable.Kind, p int, k sellable.Key) string {
	return root + "." + kindToken(kind) + "." + strconv.Itoa(p) + "." + KeyToken(k)
}

// PartitionFilter selects the stored events of one partition. The stream
// stores inventory.<kind>s.<loc>.<sku> as inventory.<kind>s.<p>.<loc>.<sku>.
func PartitionFilter(p int) string {
	return root + ".*." + strconv.Itoa(p) + ".*.*"
}

// ParseStoredSubject splits a stored event subject into kind, partition
// and key. Tokens must be canonical encodings (see DecodeToken).
func ParseStoredSubject(subject string) (sellable.Kind, int, sellable.Key, error) {
	toks := strings.Split(subject, ".")
	if len(toks) != 5 || toks[0] != root {
		return 0, 0, sellable.Key{}, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	kind, ok := kindOf(toks[1])
	if !ok {
		return 0, 0, sellable.Key{}, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	p, err := strconv.Atoi(toks[2])
	if err != nil {
		return 0, 0, sellable.Key{}, fmt.Errorf("%w: partition in %q", ErrBadSubject, subject)
	}
	k, err := decodeKey(toks[3], toks[4])
	if err != nil {
		return 0, 0, sellable.Key{}, err
	}
	return kind, p, k, nil
}
