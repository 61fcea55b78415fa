package metrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// auto registers with the default registry, as promauto does, and
// remembers what it registered: the dashboard test lists what we export
// from it instead of from a hand-kept copy.
var auto = promauto.With(registered)

var (
	// EventsApplied counts events folded into the view, by partition.
	EventsApplied = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_events_applied_total",
		Help: "Events folded into the sellable view (including those skipped as already applied).",
	}, []string{"partition"})
	// EventsDeadLettered counts events moved to the dead-letter stream.
	EventsDeadLettered = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_events_dead_lettered_total",
		Help: "Events that could not be applied and went to INVENTORY_DLQ.",
	}, []string{"partition"})
	// KVWriteSeconds is the time of one batch's compare-and-set writes.
	KVWriteSeconds = auto.NewHistogram(prometheus.HistogramOpts{
		Name:    "inventory_kv_write_seconds",
		Help:    "Time to write one batch of positions to a partition bucket.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	// WriterCacheKeys is how many keys a partition's KV writer caches.
	WriterCacheKeys = auto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_kv_writer_cache_keys",
		Help: "Keys whose value and revision the KV writer of a partition owned here caches (bounded by INVENTORY_WRITER_CACHE_KEYS).",
	}, []string{"partition"})
	// WriterCacheHits and WriterCacheMisses count the writer's cache
	// lookups; the hit rate is hits / (hits + misses). A miss costs a KV
	// read before the write.
	WriterCacheHits = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_cache_hits_total",
		Help: "KV writer lookups answered from its cache, by partition.",
	}, []string{"partition"})
	WriterCacheMisses = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_cache_misses_total",
		Help: "KV writer lookups not answered from its cache (a read or a blind create follows), by partition.",
	}, []string{"partition"})
	// WriterReads counts the keys the writer read from the bucket before
	// writing them: cache misses it could not create blind, and keys
	// whose blind create found them already there.
	WriterReads = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_reads_total",
		Help: "Keys the KV writer read from its bucket before writing them, by partition.",
	}, []string{"partition"})
	// WriterCreates and WriterCreateConflicts count the writes of keys
	// the cache missed that were sent without a read, as creates; a
	// conflict means the key existed and was read and folded again.
	WriterCreates = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_creates_total",
		Help: "Keys the KV writer wrote without reading them first (create with expected revision 0), by partition.",
	}, []string{"partition"})
	WriterCreateConflicts = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_create_conflicts_total",
		Help: "Creates of the KV writer that found the key already there (then read and folded again), by partition.",
	}, []string{"partition"})
	// PublishStalls counts async publishes that found the connection's
	// window of unacknowledged publishes full and waited for room.
	PublishStalls = auto.NewCounter(prometheus.CounterOpts{
		Name: "inventory_publish_stalls_total",
		Help: "Async publishes of the calculator that waited for room in the connection's window of unacknowledged publishes.",
	})
	// WriterCacheEvictions counts keys dropped to keep the cache bounded.
	WriterCacheEvictions = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_writer_cache_evictions_total",
		Help: "Keys the KV writer forgot to stay within its bound, by partition.",
	}, []string{"partition"})
	// KeysRebuilt counts view keys found deleted or purged and rebuilt
	// from the event log.
	KeysRebuilt = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_kv_keys_rebuilt_total",
		Help: "View keys found deleted or purged in their bucket and folded again from the INVENTORY stream, by partition.",
	}, []string{"partition"})
	// PartitionLag is how many events of a partition wait behind the last
	// one processed (the ordered consumer's pending count).
	PartitionLag = auto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_partition_lag_events",
		Help: "Events stored but not yet processed, by partition owned here.",
	}, []string{"partition"})
	// PartitionStalled is 1 while a partition owned here cannot make
	// progress: its worker keeps failing without advancing, or one batch
	// has been in process too long. /calculator/status says why.
	PartitionStalled = auto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_partition_stalled",
		Help: "1 while a partition owned here cannot make progress, else 0; /calculator/status says why.",
	}, []string{"partition"})
	// PartitionRestarts counts restarts of a partition's worker after it
	// failed.
	PartitionRestarts = auto.NewCounterVec(prometheus.CounterOpts{
		Name: "inventory_partition_restarts_total",
		Help: "Times a partition's worker was started again after it failed.",
	}, []string{"partition"})
	// PartitionsOwned is how many partitions this process owns.
	PartitionsOwned = auto.NewGauge(prometheus.GaugeOpts{
		Name: "inventory_partitions_owned",
		Help: "Partitions this calculator instance owns.",
	})
	// DecisionRetries counts decisions on the log taken again because a
	// key moved between the read and the publish (the stream refused the
	// batch's expected last subject sequence): the contention of
	// reservations and counts, read by the load tool.
	DecisionRetries = auto.NewCounter(prometheus.CounterOpts{
		Name: "inventory_decision_retries_total",
		Help: "Decisions on the log taken again because a key moved in between (expected-last-subject-sequence refusals).",
	})
	// ReadModelKeys is how many positions the query API holds in memory
	// (package readmodel), bounded by INVENTORY_READ_MODEL_KEYS.
	ReadModelKeys = auto.NewGauge(prometheus.GaugeOpts{
		Name: "inventory_readmodel_keys",
		Help: "Positions the query API holds in memory (bounded by INVENTORY_READ_MODEL_KEYS).",
	})
	// ReadModelHits and ReadModelMisses count point queries answered from
	// memory and those that read the bucket (a key not held); reads
	// before the watches caught up count as neither.
	ReadModelHits = auto.NewCounter(prometheus.CounterOpts{
		Name: "inventory_readmodel_hits_total",
		Help: "Point queries answered from the in-memory read model.",
	})
	ReadModelMisses = auto.NewCounter(prometheus.CounterOpts{
		Name: "inventory_readmodel_misses_total",
		Help: "Point queries for a key the read model did not hold, read from the bucket.",
	})
	// ReadModelEvictions counts keys forgotten to stay within the bound.
	ReadModelEvictions = auto.NewCounter(prometheus.CounterOpts{
		Name: "inventory_readmodel_evictions_total",
		Help: "Keys the read model forgot to make room for a key read.",
	})
	// ReadModelBehind is how many changes of a partition's bucket were
	// stored after the last one its watch delivered, as the server
	// counted at that delivery: the read model's freshness.
	ReadModelBehind = auto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_readmodel_behind_changes",
		Help: "Changes of a view bucket stored after the last one the read model's watch delivered, by partition.",
	}, []string{"partition"})
	// ReadModelCaughtUp is 1 once a partition's watch has delivered what
	// the bucket held when it started; until every partition is, point
	// queries read the buckets.
	ReadModelCaughtUp = auto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inventory_readmodel_caught_up",
		Help: "1 once the read model's watch of a partition's bucket has caught up, else 0 (queries then read the bucket).",
	}, []string{"partition"})
	// HTTPRequestSeconds is request latency by method, route and status.
	HTTPRequestSeconds = auto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "inventory_http_request_seconds",
		Help:    "HTTP request latency by method, route and status.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"method", "route", "status"})
)

// recorder is a Registerer that remembers what it registered.
type recorder struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

// registered is what this package registered with the default registry.
var registered = &recorder{Registerer: prometheus.DefaultRegisterer}

func (r *recorder) Register(c prometheus.Collector) error {
	if err := r.Registerer.Register(c); err != nil {
		return err
	}
	r.collectors = append(r.collectors, c)
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Handler serves the default registry.
func Handler() http.Handler { return promhttp.Handler() }

// httpLabels are the labels of one series of HTTPRequestSeconds.
type httpLabels struct {
	method, route string
	status        int
}

// httpObservers are HTTPRequestSeconds' series by labels, resolved once:
// WithLabelValues hashes the three labels and takes the vector's lock
// on every request, and the status must be formatted first. The map
// holds exactly the series the vector holds (nothing deletes them).
var httpObservers sync.Map // httpLabels → prometheus.Observer

// HTTPRequestObserver is HTTPRequestSeconds' series for a request of
// method to route answered with status.
func HTTPRequestObserver(method, route string, status int) prometheus.Observer {
	k := httpLabels{method, route, status}
	if o, ok := httpObservers.Load(k); ok {
		return o.(prometheus.Observer)
	}
	o, _ := httpObservers.LoadOrStore(k, HTTPRequestSeconds.WithLabelValues(method, route, strconv.Itoa(status)))
	return o.(prometheus.Observer)
}
