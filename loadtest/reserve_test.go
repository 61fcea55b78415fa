package loadtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCartKeysAreDistinctAndHotFirst(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, shape := range reservationShapes {
		for range 1000 {
			ks := cartKeys(rnd, 6, shape)
			if len(ks) != shape.lines {
				t.Fatalf("%v: %d keys", shape, len(ks))
			}
			seen := map[int]bool{}
			for i, k := range ks {
				if seen[k] || k < 0 || k >= 6 {
					t.Fatalf("%v: keys %v", shape, ks)
				}
				seen[k] = true
				if shape.hot && (i == 0) != (k == 0) {
					t.Fatalf("%v: the hot key must come first and once: %v", shape, ks)
				}
			}
		}
	}
}

func TestCounterSumsEverySeries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# HELP x\n"+ConflictsMetric+"_other 100\n"+ConflictsMetric+`{route="a"} 3`+"\n"+ConflictsMetric+" 4\n")
	}))
	defer srv.Close()
	h, err := newHTTPClient(srv.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := h.counter(context.Background(), ConflictsMetric)
	if err != nil || v != 7 {
		t.Fatalf("counter = %v, %v; want 7", v, err)
	}
	if _, err := h.counter(context.Background(), "absent_total"); err == nil {
		t.Fatal("an absent counter read as 0")
	}
}
