package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// TestCountSetsOnHand walks a stock count through its answers: the
// adjustment that gets there (201), nothing when already there (200),
// a compare-and-set that finds another on-hand (409 with the current
// one), and one that matches.
func TestCountSetsOnHand(t *testing.T) {
	s := newStack(t)
	count := func(body string, want int) map[string]any {
		t.Helper()
		st, out := s.do(t, http.MethodPost, "/inventory/counts", body)
		if st != want {
			t.Fatalf("POST /inventory/counts %s: %d %v, want %d", body, st, out, want)
		}
		return out
	}
	onHand := func(n int) {
		t.Helper()
		poll.Until(t, 5*time.Second, fmt.Sprintf("on-hand %d", n), func() error {
			st, out := s.do(t, http.MethodGet, queryPath("STL", "c1"), "")
			if st != http.StatusOK || out["onHand"] != float64(n) {
				return fmt.Errorf("%d %v", st, out)
			}
			return nil
		})
	}

	// A key with no events counts from 0.
	out := count(`{"locationId":"STL","sku":"c1","onHand":40}`, http.StatusCreated)
	if out["previousOnHand"] != 0.0 || out["adjustment"] != 40.0 || out["appended"] != true {
		t.Fatalf("first count: %v", out)
	}
	st, _ := s.do(t, http.MethodPost, "/inventory/reservation", `{"locationId":"STL","sku":"c1","count":5}`)
	if st != http.StatusCreated {
		t.Fatal(st)
	}
	out = count(`{"locationId":"STL","sku":"c1","onHand":57}`, http.StatusCreated)
	if out["previousOnHand"] != 40.0 || out["adjustment"] != 17.0 || out["onHand"] != 57.0 {
		t.Fatalf("count to 57: %v", out)
	}
	onHand(57)
	stored := s.storedEvents(t)
	out = count(`{"locationId":"STL","sku":"c1","onHand":"57"}`, http.StatusOK)
	if out["adjustment"] != 0.0 || out["appended"] != false || out["previousOnHand"] != 57.0 {
		t.Fatalf("count to where it is: %v", out)
	}
	if n := s.storedEvents(t); n != stored {
		t.Fatalf("a count to the current on-hand stored %d events", n-stored)
	}
	out = count(`{"locationId":"STL","sku":"c1","onHand":10,"expectedOnHand":50}`, http.StatusConflict)
	if out["onHand"] != 57.0 || out["field"] != "expectedOnHand" {
		t.Fatalf("compare-and-set on a stale on-hand: %v", out)
	}
	if n := s.storedEvents(t); n != stored {
		t.Fatal("a refused count stored an event")
	}
	out = count(`{"locationId":"STL","sku":"c1","onHand":10,"expectedOnHand":57}`, http.StatusCreated)
	if out["adjustment"] != -47.0 {
		t.Fatalf("compare-and-set: %v", out)
	}
	onHand(10)
}

func TestBadCountsGet400NamingTheField(t *testing.T) {
	s := newStack(t)
	for body, field := range map[string]string{
		`{"locationId":"STL","sku":"c"}`:                                 "onHand",
		`{"locationId":"STL","sku":"c","onHand":-1}`:                     "onHand",
		`{"locationId":"STL","sku":"c","onHand":1000000001}`:             "onHand",
		`{"locationId":"STL","sku":"c","onHand":1.5}`:                    "onHand",
		`{"locationId":"STL","sku":"c","onHand":1,"expectedOnHand":"x"}`: "expectedOnHand",
		`{"locationId":"STL","sku":"c","onHand":1,"count":1}`:            "count",
		`{"sku":"c","onHand":1}`:                                         "locationId",
		`[]`:                                                             "body",
	} {
		st, out := s.do(t, http.MethodPost, "/inventory/counts", body)
		if st != http.StatusBadRequest || out["field"] != field {
			t.Errorf("%s: %d %v, want 400 naming %s", body, st, out, field)
		}
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("bad counts stored %d events", n)
	}
}
