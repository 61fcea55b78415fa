package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/sellable/inventory/client"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
)

// TestClientAgainstTheAPI drives the real command and query API (embedded
// NATS, calculator, the handlers the programs serve) through the
// generated client: every answer the load tool and the e2e tests rely on
// decodes into the type the document gives for its status.
func TestClientAgainstTheAPI(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 2})
	sys.StartCalculator(t, nil, nil)
	srv := sys.ServeAPI(t, slog.New(slog.DiscardHandler))
	c, err := client.NewClientWithResponses(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	loc, sku := "Zürich 1", "a/b" // escaped in the path by the client

	key := "k-1"
	adj, err := c.AdjustWithResponse(ctx, &client.AdjustParams{IdempotencyKey: &key},
		client.AdjustJSONRequestBody{LocationId: loc, Sku: sku, Count: client.AdjustmentCountString(100)})
	if err != nil {
		t.Fatal(err)
	}
	if adj.StatusCode() != http.StatusCreated || adj.JSON201 == nil || adj.JSON201.Count != 100 || adj.JSON201.Seq == 0 {
		t.Fatalf("adjust: %d %s", adj.StatusCode(), adj.Body)
	}
	again, err := c.AdjustWithResponse(ctx, &client.AdjustParams{IdempotencyKey: &key},
		client.AdjustJSONRequestBody{LocationId: loc, Sku: sku, Count: client.AdjustmentCountString(100)})
	if err != nil {
		t.Fatal(err)
	}
	if again.JSON200 == nil || !again.JSON200.Duplicate || again.JSON200.Seq != adj.JSON201.Seq {
		t.Fatalf("retry with the same key: %d %s", again.StatusCode(), again.Body)
	}

	res, err := c.ReserveWithResponse(ctx, nil, client.ReserveJSONRequestBody{LocationId: loc, Sku: sku, Count: client.ReservationCountOf(10)})
	if err != nil {
		t.Fatal(err)
	}
	if res.JSON201 == nil || res.JSON201.Count != 10 {
		t.Fatalf("reserve: %d %s", res.StatusCode(), res.Body)
	}

	batch, err := c.BatchWithResponse(ctx, nil, client.BatchJSONRequestBody{Commands: []client.BatchCommand{
		client.AdjustmentItem(loc, sku, -5),
		client.ReservationItem(loc, sku, 2),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if batch.JSON201 == nil || len(batch.JSON201.Results) != 2 || batch.JSON201.Results[1].Seq != res.JSON201.Seq+2 {
		t.Fatalf("batch: %d %s", batch.StatusCode(), batch.Body)
	}

	poll.Until(t, 10*time.Second, "the position folds all five commands", func() error {
		pos, err := c.GetPositionWithResponse(ctx, loc, sku, nil)
		switch {
		case err != nil:
			return err
		case pos.JSON200 == nil:
			return fmt.Errorf("status %d: %s", pos.StatusCode(), pos.Body)
		case pos.JSON200.Seq != batch.JSON201.Results[1].Seq:
			return fmt.Errorf("seq %d", pos.JSON200.Seq)
		}
		if p := pos.JSON200; p.LocationId != loc || p.Sku != sku || p.Count != 83 || p.Adjusted != 95 || p.Reserved != 12 {
			t.Fatalf("position %+v", *p)
		}
		return nil
	})

	bad, err := c.AdjustWithResponse(ctx, nil, client.AdjustJSONRequestBody{LocationId: loc, Sku: sku, Count: client.AdjustmentCountOf(0)})
	if err != nil {
		t.Fatal(err)
	}
	if bad.JSON400 == nil || bad.JSON400.Field == nil || *bad.JSON400.Field != "count" {
		t.Fatalf("zero count: %d %s", bad.StatusCode(), bad.Body)
	}
	missing, err := c.GetPositionWithResponse(ctx, loc, "no such sku", nil)
	if err != nil {
		t.Fatal(err)
	}
	if missing.JSON404 == nil {
		t.Fatalf("unknown position: %d %s", missing.StatusCode(), missing.Body)
	}
}

// TestCountsSpellTheSeedsShapes: the count constructors write the JSON the
// seed accepts, an integer or a string holding one.
func TestCountsSpellTheSeedsShapes(t *testing.T) {
	for _, tc := range []struct {
		got  interface{ MarshalJSON() ([]byte, error) }
		want string
	}{
		{client.AdjustmentCountOf(-5), `-5`},
		{client.AdjustmentCountString(100), `"100"`},
		{client.ReservationCountOf(10), `10`},
		{client.ReservationCountString(10), `"10"`},
		{client.AdjustmentItem("L", "S", 3), `{"count":3,"locationId":"L","sku":"S","type":"adjustment"}`},
		{client.ReservationItem("L", "S", 1), `{"count":1,"locationId":"L","sku":"S","type":"reservation"}`},
	} {
		b, err := tc.got.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got %s, want %s", b, tc.want)
		}
	}
	var n client.AdjustmentCount
	if err := n.UnmarshalJSON([]byte(`"7"`)); err != nil {
		t.Fatal(err)
	}
	if s, err := n.AsAdjustmentCount2(); err != nil || s != "7" {
		t.Fatalf("string count read back: %q %v", s, errors.Join(err))
	}
}
