package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var (
	// EventsApplied counts events folded into the view, by partition.
	EventsApplied = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_events_applied_total",
		Help: "Events folded into the sellable view (including those skipped as already applied).",
	}, []string{"partition"})
	// EventsDeadLettered counts events moved to the dead-letter stream.
	EventsDeadLettered = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_events_dead_lettered_total",
		Help: "Events that could not be applied and went to INVENTORY_DLQ.",
	}, []string{"partition"})
	// KVWriteSeconds is the time of one batch's compare-and-set writes.
	KVWriteSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "inventory_kv_write_seconds",
		Help:    "Time to write one batch of positions to a partition bucket.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	// PartitionLag is how many events of a partition wait behind the last
	// one processed (the ordered consumer's pending count).
	PartitionLag = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_partition_lag_events",
		Help: "Events stored but not yet processed, by partition owned here.",
	}, []string{"partition"})
	// PartitionStalled is 1 while a partition owned here cannot make
	// progress: its worker keeps failing without advancing, or one batch
	// has been in process too long. /calculator/status says why.
	PartitionStalled = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_partition_stalled",
		Help: "1 while a partition owned here cannot make progress, else 0; /calculator/status says why.",
	}, []string{"partition"})
	// PartitionRestarts counts restarts of a partition's worker after it
	// failed.
	PartitionRestarts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_partition_restarts_total",
		Help: "Times a partition's worker was started again after it failed.",
	}, []string{"partition"})
	// PartitionsOwned is how many partitions this process owns.
	PartitionsOwned = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "inventory_partitions_owned",
		Help: "Partitions this calculator instance owns.",
	})
	// HTTPRequestSeconds is request latency by method, route and status.
	HTTPRequestSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "inventory_http_request_seconds",
		Help:    "HTTP request latency by method, route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"method", "route", "status"})
)

// Handler serves the default registry.
func Handler() http.Handler { return promhttp.Handler() }
