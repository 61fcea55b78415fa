// Package calculator is the stream processor: it folds the events of each
// partition of the INVENTORY stream into that partition's KV bucket and
// announces every new value on inventory.sellable.<loc>.<sku>.
//
// Instances share the partitions through leases in a KV bucket (see
// ownership.go); the owner of a partition reads it in stream order with an
// ordered consumer, starting after its last checkpoint. Exactly-once effect
// does not depend on the leases: every value records the last event
// sequence it reflects and is written with compare-and-set, so replays and
// a briefly doubled owner skip what is already applied. The same makes it
// safe to leave a batch that never ends behind when a partition stops,
// so a stuck decode never holds up a shutdown; such a batch, or a worker
// that keeps failing at the same place, is reported as stalled (stats.go).
//
// Why not orbit.go pcgroups: its static groups fix the member list at
// creation and its elastic groups change membership only by an
// administrative call; in both, a dead member's partitions move only to
// another running instance of the same member name. We want anonymous
// instances that share the partitions and take over a dead one's share by
// themselves, which leases over a KV bucket give in a few dozen lines.
package calculator
