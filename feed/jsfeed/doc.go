// Package jsfeed fills the live feed from JetStream: the view buckets'
// own streams, KV_sellable_p0 … KV_sellable_p{N-1}, each a partition's
// change feed. Source runs one hub per process: an ordered consumer per
// partition from the stream's end that decodes each value once (kv's
// value decoder; KV delete and purge markers skipped), stamps it with the
// hub's cursor (the last sequence read in every partition), encodes it
// once (Config.Frame) and hands the same bytes to every subscriber whose
// filter selects it, instead of one consumer, one decode and one encode
// per subscriber. A subscriber that resumes replays each partition from
// its cursor's number with an ordered consumer of its own (filtered on
// the server) while the hub buffers that partition's live changes, and
// switches over where the two meet, partition by partition, without a
// gap or a duplicate; it takes the hub's changes and ids as they are once
// every partition met the hub and the hub's cursor covers its own
// (replay.go says why). DeadLetters reads the dead-letter stream back,
// newest first, for operators. Package feed says what a subscription
// promises; this package only moves messages into it.
//
// Why consumers on the streams rather than a core subscription on the
// buckets' republished subjects (inventory.sellable.<loc>.<sku>): the
// republish is at most once (a slow or reconnecting subscriber loses
// messages, and a gap is seen only at the next message of the same
// partition, by its Nats-Sequence header, after which the hub would have
// to read the stream anyway), while an ordered consumer detects and
// repairs its own gaps and reports what it has not read yet
// (NumPending), which the hub's Behind allowance needs.
package jsfeed
