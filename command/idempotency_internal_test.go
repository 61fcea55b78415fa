package command

import (
	"testing"

	"github.com/sellable/inventory/sellable"
)

// Requests that differ anywhere have different fingerprints, including
// where a plain concatenation of the fields would be equal.
func TestFingerprintTellsRequestsApart(t *testing.T) {
	adj := sellable.Command{Kind: sellable.Adjustment, LocationID: "ab", SKU: "c", Count: 1}
	res := adj
	res.Kind = sellable.Reservation
	shifted := adj
	shifted.LocationID, shifted.SKU = "a", "bc"
	count := adj
	count.Count = 11
	keyOnly := adj
	keyOnly.IdempotencyKey = "ignored"
	seen := map[string]string{}
	for name, fp := range map[string]string{
		"adjustment":           fingerprint(scope(adj.Kind), adj),
		"reservation":          fingerprint(scope(res.Kind), res),
		"shifted identifiers":  fingerprint(scope(adj.Kind), shifted),
		"other count":          fingerprint(scope(adj.Kind), count),
		"batch of it":          fingerprint(scopeBatch, adj),
		"batch of two":         fingerprint(scopeBatch, adj, adj),
		"batch in other order": fingerprint(scopeBatch, adj, res),
		"batch in order":       fingerprint(scopeBatch, res, adj),
	} {
		if other, ok := seen[fp]; ok {
			t.Errorf("%s and %s share fingerprint %s", name, other, fp)
		}
		seen[fp] = name
	}
	if fingerprint(scope(adj.Kind), adj) != fingerprint(scope(adj.Kind), keyOnly) {
		t.Error("the key itself changed the fingerprint")
	}
}

// No single command's id is a batch command's id, whatever the keys hold.
func TestMsgIDsOfSinglesAndBatchesAreDistinct(t *testing.T) {
	ids := map[string]string{}
	add := func(id, what string) {
		if other, ok := ids[id]; ok {
			t.Errorf("%s and %s share Nats-Msg-Id %q", what, other, id)
		}
		ids[id] = what
	}
	for _, key := range []string{"r", "r/0", "r/1", "r/1/0", "batch:r", "req:r", ":", "/"} {
		add(requestMsgID(key), "single "+key)
		for i := 1; i < 3; i++ {
			add(batchMsgID(key, i), "batch "+key+" command "+string(rune('0'+i)))
		}
	}
}
