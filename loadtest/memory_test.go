package loadtest

import (
	"testing"
	"time"
)

// A run's memory is reported at each whole minute and at the end, with
// the end relative to the first minute: the figure that says whether
// memory stays flat once warmed up.
func TestAddMemoryReportsMinutesEndAndRatio(t *testing.T) {
	const mb = 1 << 20
	var samples []memSample
	for s := 0; s <= 150; s += 5 {
		rss := float64(100 * mb)
		if s >= 60 {
			rss = float64(100+s-60) * mb // grows 1 MB/s after the first minute
		}
		samples = append(samples, memSample{at: time.Duration(s) * time.Second, rss: rss, heap: rss / 2})
	}
	var sec Section
	sec.addMemory(samples, 1)
	want := map[string]float64{
		"memory samples":           31,
		"memory sample errors":     1,
		"server RSS at start":      100 * mb,
		"server RSS at 1m":         100 * mb,
		"server RSS at 2m":         160 * mb,
		"server RSS at end":        190 * mb,
		"server RSS max":           190 * mb,
		"server heap in use max":   95 * mb,
		"server heap in use at 1m": 50 * mb,
		"server RSS end ÷ 1m":      1.9,
	}
	for name, v := range want {
		m, ok := sec.Get(name)
		if !ok || m.Value != v {
			t.Errorf("%s = %v (found %v), want %v", name, m.Value, ok, v)
		}
	}
	if _, ok := sec.Get("server RSS at 3m"); ok {
		t.Error("a minute past the end is reported")
	}
}

// A run shorter than a minute has no minute mark and so no ratio.
func TestAddMemoryShortRunHasNoRatio(t *testing.T) {
	var sec Section
	sec.addMemory([]memSample{{at: 0, rss: 1}, {at: time.Second, rss: 2}}, 0)
	if _, ok := sec.Get("server RSS end ÷ 1m"); ok {
		t.Error("ratio reported without a first minute")
	}
	if m, _ := sec.Get("server RSS max"); m.Value != 2 {
		t.Errorf("max %v, want 2", m.Value)
	}
}
