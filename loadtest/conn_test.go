package loadtest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
)

// The load tool's HTTP calls, through the generated client, against the
// real API: a single command, a batch (results in request order), and a
// query of a key that exists and of one that does not.
func TestHTTPClientSpeaksTheAPI(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 2})
	h, err := newHTTPClient(sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ks := newKeySet("conn", 2)
	first, err := h.send(ctx, ks, []event{{key: 0, kind: sellable.Adjustment, count: 5}})
	if err != nil || len(first) != 1 || first[0] == 0 {
		t.Fatalf("single command: %v %v", first, err)
	}
	seqs, err := h.send(ctx, ks, []event{
		{key: 0, kind: sellable.Reservation, count: 1},
		{key: 1, kind: sellable.Adjustment, count: -2},
		{key: 1, kind: sellable.Reservation, count: 3},
	})
	if err != nil || len(seqs) != 3 || seqs[0] != first[0]+1 || seqs[2] != first[0]+3 {
		t.Fatalf("batch after seq %d: %v %v", first[0], seqs, err)
	}
	if _, err := h.post(ctx, sellable.Adjustment, ks.keys[0], 0); err == nil {
		t.Fatal("a zero adjustment was not refused")
	}
	// No calculator runs: nothing is in the view, so the key is unknown.
	if seq, err := h.get(ctx, ks.keys[0]); err != nil || seq != 0 {
		t.Fatalf("unknown position: seq %d, %v", seq, err)
	}
	sys.StartCalculator(t, nil, nil)
	waitSeq(t, h, ks.keys[0], seqs[0])
}

func waitSeq(t *testing.T, h *httpClient, k sellable.Key, want uint64) {
	t.Helper()
	poll.Until(t, 10*time.Second, "the view reaches the batch", func() error {
		seq, err := h.get(context.Background(), k)
		if err != nil {
			return err
		}
		if seq != want {
			return fmt.Errorf("seq %d, want %d", seq, want)
		}
		return nil
	})
}
