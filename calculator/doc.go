// Package calculator is the stream processor: it folds the events of each
// partition of the INVENTORY stream into that partition's KV bucket. The
// compare-and-set write is the change: the bucket republishes it on
// inventory.sellable.<loc>.<sku> and its stream is the change log the
// projector and the feed read (kv.BucketConfig); nothing else is
// published but dead letters.
//
// Instances share the partitions through leases in a KV bucket (see
// ownership.go); the owner of a partition reads it in stream order with an
// ordered consumer, starting after its last checkpoint.
//
// The assignment is sticky, so a join or a leave moves only what must
// move: with P partitions over M live members each member's share is
// floor(P/M) or ceil(P/M), the ceil shares going to the members that
// already hold the most (then the lowest id), so every member computes
// the same shares from the same counts and no share is taken from whoever
// holds it. A member keeps what it holds up to its share, hands off the
// rest and claims free partitions up to its share (3 -> 4 members over 8
// partitions: 3,3,2 -> 2,2,2,2 moves two; a member leaving moves only its
// own). Round robin over sorted members, used before, moved 5 of 8 on
// such a join. A member below its floor claims at once; one taking a ceil
// share waits a short grace (LeaseTTL/8) so that a member that has not yet
// seen a newcomer does not take what was handed off for it; this is what
// keeps a join from moving a partition twice.
//
// Members follow the bucket with a watch rather than listing keys: each
// heartbeat, lease, hand-off and leave reaches every member at once. An
// expiry by MaxAge sends nothing to a watcher, so a member also expires
// an entry one TTL after it last saw it, by a timer rather than a
// polling round; a dead member's partitions are claimed about one TTL
// after its last renewal. A renewal the server refuses is settled by
// asking it who holds the lease (owner.recheck): on a starved process a
// renewal may be stored after its answer timed out, or none may arrive
// within the TTL, and a partition nobody else took is kept (taken again
// if it expired) with its worker running, not restarted with an empty
// cache. A hand-off stops the worker on its own
// goroutine while the lease is still renewed, and releases the lease once
// the checkpoint is saved, so the next owner starts from it and a slow or
// stuck stop never holds up the other partitions. Exactly-once effect
// does not depend on the leases: every value records the last event
// sequence it reflects and is written with compare-and-set, so replays and
// a briefly doubled owner skip what is already applied. A key whose fold
// changes nothing is not written, so a replay republishes nothing and
// every value reaches subscribers once, with no Nats-Msg-Id to track.
// The same makes it
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
