package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sellable/inventory/client"
	"github.com/sellable/inventory/internal/poll"
)

// write posts an adjustment and returns its sequence and partition.
func write(t *testing.T, base, loc, sku string, count int) (seq uint64, partition int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := api(base).AdjustWithResponse(ctx, nil,
		client.AdjustJSONRequestBody{LocationId: loc, Sku: sku, Count: client.AdjustmentCountOf(int64(count))})
	if err != nil || r.JSON201 == nil {
		t.Fatalf("adjustment %s/%s: %v %v", loc, sku, r, err)
	}
	return uint64(r.JSON201.Seq), r.JSON201.Partition
}

// readAt reads a position at a minimum sequence, by the query parameter
// or by the header.
func readAt(base, loc, sku string, seq uint64, header bool, wait string) (int, http.Header, map[string]any, error) {
	u := base + "/inventory/locations/" + url.PathEscape(loc) + "/skus/" + url.PathEscape(sku)
	q := url.Values{}
	if wait != "" {
		q.Set("wait", wait)
	}
	if !header {
		q.Set("minSeq", strconv.FormatUint(seq, 10))
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if header {
		req.Header.Set("Inventory-Min-Seq", strconv.FormatUint(seq, 10))
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	err = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out, err
}

// writeThenRead writes n adjustments of +1 to one new key through
// writer, and reads each back at its sequence from every reader at once:
// each answer must show the write.
func writeThenRead(t *testing.T, writer string, readers []string, n int) {
	t.Helper()
	loc, sku := fmt.Sprintf("ryw-%d", rand.Uint32()), "s"
	for i := 1; i <= n; i++ {
		seq, _ := write(t, writer, loc, sku, 1)
		for j, r := range readers {
			status, _, out, err := readAt(r, loc, sku, seq, (i+j)%2 == 0, "")
			if err != nil || status != http.StatusOK || out["count"] != float64(i) || out["seq"].(float64) < float64(seq) {
				t.Fatalf("write %d (seq %d) read from %s: %d %v %v, want count %d", i, seq, r, status, out, err, i)
			}
		}
	}
}

// On the all-in-one every write is read back at its sequence, from the
// KV path and, with SCYLLA_HOSTS, from the Scylla path, which trails the
// calculator by a projection.
func TestReadYourWritesAllInOne(t *testing.T) {
	t.Parallel()
	readers := []string{}
	var a *allInOne
	if os.Getenv("SCYLLA_HOSTS") != "" {
		var scylla string
		a, scylla = startWithProjection(t)
		waitReady(t, scylla)
		readers = append(readers, scylla)
	} else {
		a = newAllInOne(t)
		a.start(t)
	}
	readers = append(readers, a.base)
	writeThenRead(t, a.base, readers, 60)
}

// The split deployment: commands to the mutator, reads from two
// calculators (and sellable-service with SCYLLA_HOSTS). Every write is
// read back at its sequence from every one of them. Then the calculator
// that owns the key's partition is frozen (SIGSTOP): a read at the new
// write's sequence from the other answers 504 and says how far the view
// is, while a plain read answers the stale value, so a server ignoring
// minSeq would fail here; once thawed, the read answers the write.
func TestReadYourWritesSplit(t *testing.T) {
	t.Parallel()
	natsAddr := freeAddr(t)
	natsURL := "nats://" + natsAddr
	startNATS(t, "nats", natsAddr, t.TempDir())
	mutAddr, c1Addr, c2Addr := freeAddr(t), freeAddr(t), freeAddr(t)
	mutator := "http://" + mutAddr
	start(t, "mutator", "mutator", map[string]string{"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": mutAddr})
	calcs := []string{"http://" + c1Addr, "http://" + c2Addr}
	procs := []*process{
		start(t, "calculator-1", "calculator", map[string]string{"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": c1Addr}),
		start(t, "calculator-2", "calculator", map[string]string{"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": c2Addr}),
	}
	readers := append([]string{}, calcs...)
	if hosts := os.Getenv("SCYLLA_HOSTS"); hosts != "" {
		svcAddr := freeAddr(t)
		start(t, "sellable-service", "sellable-service", map[string]string{
			"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": svcAddr,
			"SCYLLA_HOSTS": hosts, "SCYLLA_KEYSPACE": fmt.Sprintf("e2e_%d", rand.Uint32()),
		})
		readers = append(readers, "http://"+svcAddr)
	}
	waitReady(t, mutator)
	for _, r := range readers {
		waitReady(t, r)
	}
	poll.Until(t, 30*time.Second, "every partition owned once", func() error { return allOwnedOnce(calcs, 8) })

	writeThenRead(t, mutator, readers, 40)

	// Every query process also answers a SKU's availability and a
	// position's history, read from NATS whichever wrote it.
	loc := fmt.Sprintf("avail-%d", rand.Uint32())
	seq, _ := write(t, mutator, loc, "s", 4)
	for _, r := range readers {
		if status, _, out, err := readAt(r, loc, "s", seq, false, "10s"); err != nil || status != http.StatusOK {
			t.Fatalf("%s: %d %v %v", r, status, out, err)
		}
		var avail struct {
			Locations []struct {
				LocationID string `json:"locationId"`
				Sellable   int    `json:"sellable"`
			} `json:"locations"`
		}
		// On Scylla the table by SKU is written just after the row the
		// point query reads.
		poll.Until(t, 10*time.Second, r+" availability", func() error {
			if status := getJSON(t, r+"/inventory/skus/s?location="+url.QueryEscape(loc), &avail); status != http.StatusOK ||
				len(avail.Locations) != 1 || avail.Locations[0].Sellable != 4 {
				return fmt.Errorf("%d %+v", status, avail)
			}
			return nil
		})
		var hist struct {
			Events []struct {
				Seq   uint64 `json:"seq"`
				Count int    `json:"count"`
			} `json:"events"`
		}
		if status := getJSON(t, r+"/inventory/locations/"+url.PathEscape(loc)+"/skus/s/history", &hist); status != http.StatusOK ||
			len(hist.Events) != 1 || hist.Events[0].Seq != seq || hist.Events[0].Count != 4 {
			t.Fatalf("%s history: %d %+v", r, status, hist)
		}
	}

	loc, sku := fmt.Sprintf("freeze-%d", rand.Uint32()), "s"
	first, p := write(t, mutator, loc, sku, 5)
	// The owners, once they have stopped moving: the second calculator
	// takes its share a moment after it starts.
	owner := settled(t, calcs, 8)[p]
	other := calcs[1-owner]
	if status, _, out, err := readAt(other, loc, sku, first, false, ""); err != nil || status != http.StatusOK || out["count"] != float64(5) {
		t.Fatalf("first write: %d %v %v", status, out, err)
	}

	// Frozen for well under the calculators' 4 s lease, so the other
	// one does not take the partition over meanwhile.
	frozen := procs[owner].cmd.Process
	if err := frozen.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			_ = frozen.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	second, _ := write(t, mutator, loc, sku, 3)
	status, hdr, out, err := readAt(other, loc, sku, second, true, "300ms")
	if err != nil || status != http.StatusGatewayTimeout || hdr.Get("Inventory-View-Seq") != strconv.FormatUint(first, 10) {
		t.Fatalf("read at seq %d while the owner is frozen: %d %v %v %v, want 504 with Inventory-View-Seq %d", second, status, hdr, out, err, first)
	}
	if status, pos, err := position(t, other, loc, sku); err != nil || status != http.StatusOK || pos.Count != 5 {
		t.Fatalf("plain read while frozen: %d %+v %v, want the stale 5", status, pos, err)
	}
	done := make(chan error, 1)
	go func() {
		status, _, out, err := readAt(other, loc, sku, second, false, "10s")
		if err == nil && (status != http.StatusOK || out["count"] != float64(8)) {
			err = fmt.Errorf("%d %v, want count 8", status, out)
		}
		done <- err
	}()
	thaw()
	if err := <-done; err != nil {
		t.Fatalf("read at seq %d after the thaw: %v", second, err)
	}
}

// getJSON GETs url and decodes its JSON answer into v.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return resp.StatusCode
}
