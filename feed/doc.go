// Package feed holds what the live side of the read model hands to its
// readers, apart from how it gets it: a sellable change as the feed
// delivers it (Change: its id, where it is stored, and the position), the
// feed's cursor (Cursor: one sequence per partition, with its text form
// and parser), what a subscriber wants (Filter, also evaluated in
// process), the bounded queue between the streams and one subscriber
// (Subscription, with the slow-consumer rule), and a dead letter as read
// back (DeadLetter). It knows neither NATS nor HTTP: jsfeed fills
// subscriptions from JetStream, api serves them as Server-Sent Events. A
// Change may carry its Frame, the bytes its reader writes, encoded once
// by the source for every subscriber that gets it.
//
// Where the changes come from, and what resuming can promise: the view is
// one KV bucket per partition, and each bucket's stream keeps the newest
// value of each of its positions (History 1) under that stream's own
// sequence. Those streams are the feed, so a change is stored once (the
// SELLABLE stream, which held every change a second time under one
// sequence, is retired). The streams are ordered each, not among
// themselves, so a complete cursor is one sequence per partition: a
// change's id is the cursor after it, the previous id with its own
// partition's number moved on. A subscriber that resumes after a cursor
// receives, each partition in its stream's order and each change at most
// once, every position whose newest value was stored after the cursor's
// number for its partition, with that newest value. A position that
// changed several times while it was away arrives once, with its latest
// value: nothing is skipped in state (once caught up it holds what the
// view holds for every position it watches), but intermediate values are
// collapsed, as in a compacted topic. Every value of one position is the
// history endpoint's job.
package feed
