// Package command is the write side's application service: it validates
// an adjustment or reservation and appends it to the event stream,
// returning only once JetStream has stored it (durable before
// acknowledged).
package command
