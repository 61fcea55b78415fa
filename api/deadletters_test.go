package api_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Messages the calculator could not apply are listed newest first with
// the reason, where they were stored and their body, a page at a time.
func TestDeadLettersListsReasonsNewestFirst(t *testing.T) {
	f := newFeedStack(t, nil, nil)
	ctx := context.Background()
	for i := range 3 {
		k := sellable.Key{LocationID: "dlq", SKU: strconv.Itoa(i)}
		if _, err := f.sys.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, k), fmt.Appendf(nil, "not json %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	var page map[string]any
	poll.Until(t, 10*time.Second, "three dead letters", func() error {
		var status int
		status, page = f.do(t, http.MethodGet, "/inventory/deadletters?limit=2", "")
		if items, _ := page["items"].([]any); status != http.StatusOK || len(items) != 2 || page["next"] == 0.0 {
			return fmt.Errorf("%d %v", status, page)
		}
		return nil
	})
	items := page["items"].([]any)
	newest, older := items[0].(map[string]any), items[1].(map[string]any)
	if newest["seq"].(float64) <= older["seq"].(float64) {
		t.Errorf("not newest first: %v", items)
	}
	// Partitions dead-letter in parallel: the order is the dead-letter
	// stream's, not the publishers'.
	bodies := map[any]bool{}
	for _, it := range items {
		d := it.(map[string]any)
		if d["reason"] == "" || d["subject"] == "" || d["originalSeq"] == 0.0 {
			t.Errorf("dead letter without its reason or origin: %v", d)
		}
		bodies[d["body"]] = true
	}
	status, rest := f.do(t, http.MethodGet, fmt.Sprintf("/inventory/deadletters?limit=2&before=%v", page["next"]), "")
	last, _ := rest["items"].([]any)
	if status != http.StatusOK || len(last) != 1 || rest["next"] != 0.0 || last[0].(map[string]any)["seq"].(float64) >= older["seq"].(float64) {
		t.Fatalf("second page: %d %v", status, rest)
	}
	bodies[last[0].(map[string]any)["body"]] = true
	for i := range 3 {
		if !bodies[fmt.Sprintf("not json %d", i)] {
			t.Errorf("the pages miss body %d: %v", i, bodies)
		}
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "before=-1"} {
		if status, out := f.do(t, http.MethodGet, "/inventory/deadletters?"+q, ""); status != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", q, status, out)
		}
	}
}

// The console is served whole from the binary and names no other
// origin: it works with no network beyond the service.
func TestConsoleFetchesNothingElsewhere(t *testing.T) {
	for _, f := range []string{"console/index.html", "console/console.js", "console/console.css"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).Find(b); m != nil {
			t.Errorf("%s names another origin: %s", f, m)
		}
		if m := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write`).Find(b); m != nil {
			t.Errorf("%s writes HTML (%s): server values must go in as text", f, m)
		}
	}
}
