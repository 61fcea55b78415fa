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
	case sellable.Hold:
		return "holds"
	case sellable.Release:
		return "releases"
	case sellable.Fulfilment:
		return "fulfilments"
	case sellable.Expiry:
		return "expiries"
	}
	return ""
}

func kindOf(tok string) (sellable.Kind, bool) {
	switch tok {
	case "adjustments":
		return sellable.Adjustment, true
	case "reservations":
		return sellable.Reservation, true
	case "holds":
		return sellable.Hold, true
	case "releases":
		return sellable.Release, true
	case "fulfilments":
		return sellable.Fulfilment, true
	case "expiries":
		return sellable.Expiry, true
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

// SellableSubject is where a position's new value is republished by its
// view bucket (kv.BucketConfig).
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
// The stored subjects of every kind of one key are that key's whole
// history (KeyHistoryFilter).
func StoredEventSubject(kind sellable.Kind, p int, k sellable.Key) string {
	return root + "." + kindToken(kind) + "." + strconv.Itoa(p) + "." + KeyToken(k)
}

// KeyHistoryFilter matches every stored event of k, whatever its kind, in
// partition p: the key's whole history, in one total order. It is the
// Nats-Expected-Last-Subject-Sequence-Subject of a decision on k.
func KeyHistoryFilter(p int, k sellable.Key) string {
	return root + ".*." + strconv.Itoa(p) + "." + KeyToken(k)
}

// cartToken is the second token of a cart reservation's own subject.
const cartToken = "carts"

// CartSubject is the subject of cart reservation id's own record in the
// event stream: its creation and every later step of its lifecycle, in
// order. It has three tokens, so the partition transform (four) leaves
// it alone and no partition filter (five) ever matches it: calculators
// never see it. Its last message is the reservation's current state, and
// a step is decided with Nats-Expected-Last-Subject-Sequence on it.
func CartSubject(id string) string {
	return root + "." + cartToken + "." + EncodeToken(id)
}

// CartFilter matches every cart reservation's subject.
const CartFilter = root + "." + cartToken + ".*"

// StoredKindToken is the kind token of a stored event subject, whatever
// the kind, and false if subject is not one. Kinds this program does not
// know still have a name.
func StoredKindToken(subject string) (string, bool) {
	toks := strings.SplitN(subject, ".", 3)
	if len(toks) != 3 || toks[0] != root {
		return "", false
	}
	return toks[1], true
}

// PartitionFilter selects the stored events of one partition. The stream
// stores inventory.<kind>s.<loc>.<sku> as inventory.<kind>s.<p>.<loc>.<sku>.
func PartitionFilter(p int) string {
	return root + ".*." + strconv.Itoa(p) + ".*.*"
}

// ParseStoredSubject splits a stored event subject into kind, partition
// and key. Tokens must be canonical encodings (see DecodeToken).
func ParseStoredSubject(subject string) (sellable.Kind, int, sellable.Key, error) {
	// Five tokens, cut one by one rather than split: the calculator parses
	// every event's subject, and a split allocates its slice each time.
	var toks [5]string
	if strings.Count(subject, ".") != len(toks)-1 {
		return 0, 0, sellable.Key{}, fmt.Errorf("%w: %q", ErrBadSubject, subject)
	}
	rest := subject
	for i := range toks {
		toks[i], rest, _ = strings.Cut(rest, ".")
	}
	if toks[0] != root {
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
