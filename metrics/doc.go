// Package metrics holds the Prometheus collectors every program exports on
// /metrics: what the calculator applied and dead-lettered, its KV write
// latency and lag per partition, and HTTP request latency by route.
package metrics
