// Package loadtest drives a running inventory system (the all-in-one or
// the separate services) and measures it from the outside, the way a
// client sees it: events accepted per second (publish acks), events
// applied per second end to end (until every key's view in the
// sellable_p<i> KV buckets reflects its last event), freshness (publish
// ack to the new value being visible, with the server's RSS and heap
// sampled from /metrics over the run), query throughput and latency,
// single-command POST throughput and latency (checked applied only after
// the run, so no watch shares the cores while it is measured), and
// the raw JetStream publish rate of the same server as the baseline every
// figure is compared with; and the live feed, GET /inventory/changes:
// delivery latency to many Server-Sent Events subscribers at once.
//
// It publishes over HTTP (the command API, through the client generated
// from the API document, package client) or straight onto the event
// subjects over NATS, and watches the view with a KV watch on every
// partition bucket, since KV reads are exactly what the query API serves.
// Every loop is bounded in count and time, and only loopback targets are
// accepted unless Config.AllowRemote is set. services/load is its command.
package loadtest
