package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The history over HTTP: newest first with reasons, paged by nextBefore,
// bad paging refused naming the parameter.
func TestHistoryHTTP(t *testing.T) {
	s := newStack(t)
	for _, body := range []string{
		`{"locationId":"hist","sku":"a","count":10,"reason":"received","reference":"PO-4711"}`,
		`{"locationId":"hist","sku":"a","count":-2,"reason":"damaged"}`,
		`{"locationId":"hist","sku":"a","count":1}`,
	} {
		if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", body); st != http.StatusCreated || (strings.Contains(body, "reason") && out["reason"] == nil) {
			t.Fatalf("adjustment %s: %d %v", body, st, out)
		}
	}
	if st, out := s.do(t, http.MethodPost, "/inventory/reservation", `{"locationId":"hist","sku":"a","count":1,"reason":"damaged"}`); st != http.StatusBadRequest || out["field"] != "reason" {
		t.Fatalf("reservation with a reason: %d %v", st, out)
	}
	for _, reason := range []string{`"stolen"`, `null`, `7`} {
		if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"hist","sku":"a","count":1,"reason":`+reason+`}`); st != http.StatusBadRequest || out["field"] != "reason" {
			t.Fatalf("reason %s: %d %v", reason, st, out)
		}
	}
	if st, out := s.do(t, http.MethodPost, "/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"hist","sku":"a","count":1,"reference":"`+strings.Repeat("x", 257)+`"}]}`); st != http.StatusBadRequest || out["field"] != "commands[0].reference" {
		t.Fatalf("long reference in a batch: %d %v", st, out)
	}

	// The reason is part of the request an idempotency key names.
	first := `{"locationId":"hist","sku":"b","count":1,"reason":"received"}`
	if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", first, "Idempotency-Key", "hist-1"); st != http.StatusCreated {
		t.Fatalf("keyed adjustment: %d %v", st, out)
	}
	if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", first, "Idempotency-Key", "hist-1"); st != http.StatusOK || out["duplicate"] != true {
		t.Fatalf("same request again: %d %v", st, out)
	}
	if st, out := s.do(t, http.MethodPost, "/inventory/adjustment", strings.Replace(first, "received", "returned", 1), "Idempotency-Key", "hist-1"); st != http.StatusUnprocessableEntity {
		t.Fatalf("same key, another reason: %d %v, want 422", st, out)
	}

	path := queryPath("hist", "a") + "/history"
	st, out := s.do(t, http.MethodGet, path+"?limit=2", "")
	events, _ := out["events"].([]any)
	if st != http.StatusOK || len(events) != 2 || out["nextBefore"] == nil {
		t.Fatalf("first page: %d %v", st, out)
	}
	newest, second := events[0].(map[string]any), events[1].(map[string]any)
	if newest["count"] != float64(1) || newest["reason"] != nil || newest["kind"] != "adjustment" || newest["time"] == nil {
		t.Fatalf("newest: %v", newest)
	}
	if second["count"] != float64(-2) || second["reason"] != "damaged" {
		t.Fatalf("second: %v", second)
	}
	next := out["nextBefore"].(float64)
	if next != second["seq"] {
		t.Fatalf("nextBefore %v, want the oldest seq of the page %v", next, second["seq"])
	}
	st, out = s.do(t, http.MethodGet, path+"?limit=2&before="+strconv.FormatUint(uint64(next), 10), "")
	events, _ = out["events"].([]any)
	if st != http.StatusOK || len(events) != 1 || out["nextBefore"] != nil {
		t.Fatalf("last page: %d %v", st, out)
	}
	if e := events[0].(map[string]any); e["reason"] != "received" || e["reference"] != "PO-4711" || e["count"] != float64(10) {
		t.Fatalf("oldest: %v", e)
	}

	for _, q := range []string{"limit=", "before=", "limit=0", "limit=501", "limit=x", "before=0", "before=-1", "before=9223372036854775808", "before=x", "before=01"} {
		field := strings.SplitN(q, "=", 2)[0]
		if st, out := s.do(t, http.MethodGet, path+"?"+q, ""); st != http.StatusBadRequest || out["field"] != field {
			t.Errorf("%s: %d %v, want 400 naming %s", q, st, out, field)
		}
	}
	if st, _ := s.do(t, http.MethodGet, queryPath("hist", "none")+"/history", ""); st != http.StatusNotFound {
		t.Fatalf("no events: %d", st)
	}
}
