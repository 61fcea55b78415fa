package loadtest

import (
	"testing"
	"time"
)

// A change can arrive before its ack is read (a sample of 0), one change
// can reflect several events of its key (each gets a sample), an older
// change delivers nothing newer, and a dropped subscriber awaits nothing.
func TestFeedSubBookkeeping(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := newFeedSub(3)
	s.observe(0, 5, t0)            // delivered first,
	s.track(0, 5, t0.Add(ms(2)))   // acked after: 0
	s.track(1, 7, t0)              // awaited
	s.track(1, 8, t0.Add(ms(1)))   // awaited
	s.track(1, 12, t0.Add(ms(2)))  // awaited
	s.observe(1, 6, t0.Add(ms(3))) // too old for any
	if s.pending() != 3 {
		t.Fatalf("pending %d, want 3", s.pending())
	}
	s.observe(1, 8, t0.Add(ms(10))) // delivers 7 and 8
	s.observe(1, 8, t0.Add(ms(20))) // a repeat delivers nothing
	if s.pending() != 1 || s.received != 4 {
		t.Fatalf("pending %d received %d, want 1 and 4", s.pending(), s.received)
	}
	got := summarize(append([]time.Duration(nil), s.lat...))
	if got.Count != 3 || got.P50 != ms(9) || got.Max != ms(10) || s.lat[0] != 0 {
		t.Fatalf("samples %v", s.lat)
	}
	s.finish(true, nil)
	s.track(2, 20, t0)
	if s.pending() != 0 || len(s.lat) != 3 {
		t.Fatalf("a dropped subscriber still awaits %d, %d samples", s.pending(), len(s.lat))
	}
}

func TestFeedWatchResult(t *testing.T) {
	w := newFeedWatch(newKeySet("p", 4), 3)
	t0 := time.Unix(1000, 0)
	w.track(1, 3, t0)
	for _, s := range w.subs[:2] {
		s.observe(1, 3, t0.Add(ms(4)))
	}
	if w.pending() != 1 {
		t.Fatalf("pending %d, want 1", w.pending())
	}
	w.subs[2].finish(true, nil)
	if w.pending() != 0 {
		t.Fatal("a dropped subscriber's events still pending")
	}
	res := w.result()
	if res.lat.Count != 2 || res.lat.Max != ms(4) || res.dropped != 1 || res.ended != 0 || res.received != 2 {
		t.Fatalf("result %+v", res)
	}
	if k, ok := w.keyOf([]byte("p-L1"), []byte("p-000001")); !ok || k != 1 {
		t.Fatalf("keyOf = %d, %v", k, ok)
	}
	if _, ok := w.keyOf([]byte("p-L2"), []byte("p-000001")); ok {
		t.Fatal("a SKU at another location is not ours")
	}
}

func TestChangeFields(t *testing.T) {
	data := []byte(`{"locationId":"STL","sku":"123123","count":90,"adjusted":100,"reserved":10,"seq":42,"updatedAt":"2026-11-27T00:42:28.606Z"}`)
	loc, sku, seq, ok := changeFields(data)
	if !ok || string(loc) != "STL" || string(sku) != "123123" || seq != 42 {
		t.Fatalf("got %q %q %d %v", loc, sku, seq, ok)
	}
	for _, bad := range []string{`{"sku":"a","seq":1}`, `{"locationId":"a","sku":"b"}`, `{"locationId":"a","sku":"b","seq":x}`} {
		if _, _, _, ok := changeFields([]byte(bad)); ok {
			t.Errorf("%s read as a change", bad)
		}
	}
}
