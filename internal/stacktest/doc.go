// Package stacktest gives package tests the stack under the calculator: a
// real embedded JetStream server (internal/natstest) with the streams
// ensured and the view's partition buckets open, as every program finds
// them at start. It does not import calculator, so the calculator's own
// (internal) tests use it too; internal/systemtest adds the wire formats,
// calculator instances and the HTTP API on top.
package stacktest
