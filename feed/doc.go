// Package feed holds what the live side of the read model hands to its
// readers, apart from how it gets it: a sellable change as the feed
// delivers it (Change: the SELLABLE stream's sequence as its id, and the
// position), where a subscriber starts (Cursor) and what it wants
// (Filter, also evaluated in process), the bounded queue between the
// stream and one subscriber (Subscription, with the slow-consumer rule),
// and a dead letter as read back (DeadLetter). It knows neither NATS nor
// HTTP: jsfeed fills subscriptions from JetStream, api serves them as
// Server-Sent Events. A Change may carry its Frame, the bytes its reader
// writes, encoded once by the source for every subscriber that gets it.
//
// Why the SELLABLE stream, and what resuming can promise: SELLABLE keeps
// the newest change per position (MaxMsgsPerSubject 1) under one stream
// sequence for all positions, so one number is a complete cursor. A
// subscriber that resumes after id N receives, in increasing id order and
// each at most once, every position whose newest change was stored after
// N, with that newest value. A position that changed several times while
// it was away arrives once, with its latest value: nothing is skipped in
// state (once caught up it holds what the view holds for every position it
// watches), but intermediate values are collapsed, as in a compacted
// topic. Every value of one position is the history endpoint's job. The
// view buckets' own streams were the alternative: they too keep one value
// per key, and their sequences are per partition, so a cursor would be a
// vector of N numbers for no more history.
package feed
