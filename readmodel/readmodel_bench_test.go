package readmodel

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
)

// BenchmarkChange is what the watch does per change of a held key (a
// map update, no decode), and the heap a held key costs once read
// (bytes/key: the answer, the key and the map's share), with keys
// spread over a model of 100,000.
func BenchmarkChange(b *testing.B) {
	const keys = 100_000
	m := &Model{cfg: Config{MaxKeys: keys, Render: api.PositionAnswer}, held: map[sellable.Key]*entry{}, fills: map[sellable.Key]*fill{}}
	ks := make([]sellable.Key, keys)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range ks {
		// The key's strings count: a watched key holds its token's.
		ks[i] = sellable.Key{LocationID: fmt.Sprintf("loadtest-L%d", i%10), SKU: fmt.Sprintf("loadtest-%06d", i)}
		raw, err := kv.EncodeValue(sellable.Position{LocationID: ks[i].LocationID, SKU: ks[i].SKU, Count: 90, OnHand: 100,
			Reserved: 10, Seq: uint64(i + 1), UpdatedAt: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		m.change(ks[i], raw)
		if _, _, err := m.held[ks[i]].load(m.cfg.Render); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Less the slice of keys itself, which is the benchmark's.
	perKey := float64(after.HeapAlloc-before.HeapAlloc)/keys - float64(unsafe.Sizeof(sellable.Key{}))
	raw := kvValue(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.change(ks[i%keys], raw)
	}
	b.ReportMetric(perKey, "bytes/key")
}

func kvValue(b *testing.B) []byte {
	raw, err := kv.EncodeValue(sellable.Position{LocationID: "loadtest-L1", SKU: "loadtest-000001", Count: 1, Seq: 1})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}
