package kv

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

func testCache(max int) (*cache, cacheMetrics) {
	m := cacheMetrics{
		size:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "size"}),
		hits:      prometheus.NewCounter(prometheus.CounterOpts{Name: "hits"}),
		misses:    prometheus.NewCounter(prometheus.CounterOpts{Name: "misses"}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "evictions"}),
	}
	return newCache(max, m), m
}

func val(n uint64) entry { return entry{pos: sellable.Position{Seq: n}, rev: n} }

// The cache forgets the least recently used key, counts what it does,
// and never holds more than its bound.
func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c, m := testCache(2)
	c.put("a", val(1))
	c.put("b", val(2))
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", val(3)) // evicts b
	if _, ok := c.get("b"); ok {
		t.Fatal("b survived, want it evicted as least recently used")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.get(k); !ok {
			t.Fatalf("%s evicted", k)
		}
	}
	c.put("a", val(4)) // an update does not grow the cache
	if e, _ := c.get("a"); e.rev != 4 || c.len() != 2 {
		t.Fatalf("a = %+v, len %d; want rev 4, len 2", e, c.len())
	}
	c.remove("a")
	if _, ok := c.get("a"); ok || c.len() != 1 {
		t.Fatalf("a still cached after remove (len %d)", c.len())
	}
	for _, tc := range []struct {
		name string
		got  prometheus.Collector
		want float64
	}{{"size", m.size, 1}, {"hits", m.hits, 4}, {"misses", m.misses, 2}, {"evictions", m.evictions, 1}} {
		if v := value(tc.got); v != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, v, tc.want)
		}
	}
	c.clear()
	if c.len() != 0 || value(m.size) != 0 {
		t.Fatalf("clear left %d keys", c.len())
	}
}

func TestCacheNeverExceedsItsBound(t *testing.T) {
	for _, max := range []int{0, 1, 7, 100} {
		c, m := testCache(max)
		for i := range 1000 {
			c.put(fmt.Sprint(i%300), val(uint64(i)))
			if i%3 == 0 {
				c.get(fmt.Sprint(i % 17))
			}
			if c.len() > max {
				t.Fatalf("max %d: %d keys after %d puts", max, c.len(), i+1)
			}
		}
		if got := value(m.size); got != float64(c.len()) {
			t.Fatalf("max %d: size gauge %v, len %d", max, got, c.len())
		}
	}
}

// value reads a gauge or counter.
func value(c prometheus.Collector) float64 {
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(c)
	mfs, err := r.Gather()
	if err != nil || len(mfs) != 1 {
		panic(fmt.Sprint("gather: ", err))
	}
	m := mfs[0].GetMetric()[0]
	return m.GetGauge().GetValue() + m.GetCounter().GetValue()
}

// BenchmarkCacheMemory reports the heap one cached key costs, with ids
// shaped like the load tool's (location "loadtest-L3", SKU
// "loadtest-000042"): what WriterCacheKeys is sized by.
func BenchmarkCacheMemory(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, _ := testCache(n)
		for i := range n {
			k := sellable.Key{LocationID: fmt.Sprintf("loadtest-L%d", i%10), SKU: fmt.Sprintf("loadtest-%06d", i)}
			pos := sellable.Position{LocationID: k.LocationID, SKU: k.SKU, Count: 5, OnHand: 6, Reserved: 1,
				Seq: uint64(i), UpdatedAt: time.Now().UTC()}
			c.put(streams.KeyToken(k), entry{pos: pos, rev: uint64(i)})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/key")
		runtime.KeepAlive(c)
	}
}
