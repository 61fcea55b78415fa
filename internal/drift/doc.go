// Package drift compares the settings a process wants for a shared stream
// or bucket with the ones it finds. Every instance of every program
// ensures the same streams and buckets at start, so none of them may
// change what the others rely on: a difference is either reported and left
// alone (the process runs with what exists) or refused (the process cannot
// run correctly with it). Changing a shared setting is a deliberate act,
// done with `inventory admin apply`, which uses the same comparison.
package drift
