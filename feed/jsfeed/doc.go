// Package jsfeed fills the live feed from JetStream. Source runs one hub
// per process: a single ordered consumer on the SELLABLE stream from
// "new" that decodes each change once, encodes it once (Config.Frame) and
// hands the same bytes to every subscriber whose filter selects it,
// instead of one consumer, one decode and one encode per subscriber. A
// subscriber that resumes replays from an ordered consumer of its own
// (filtered on the server, from its cursor) while the hub buffers its live
// changes, and switches over where the two meet, without a gap or a
// duplicate (replay.go says why). DeadLetters reads the dead-letter
// stream back, newest first, for operators. Package feed says what a
// subscription promises; this package only moves messages into it.
package jsfeed
