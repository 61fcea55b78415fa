package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sellable/inventory/client"
)

// An adjustment, a reservation and the position they make, against the
// all-in-one's default address.
func Example() {
	ctx := context.Background()
	c, err := client.NewClientWithResponses("http://127.0.0.1:9091")
	if err != nil {
		log.Fatal(err)
	}
	key := "restock-42" // the same key again stores nothing
	adj, err := c.AdjustWithResponse(ctx, &client.AdjustParams{IdempotencyKey: &key},
		client.AdjustJSONRequestBody{LocationId: "STL", Sku: "123123", Count: client.AdjustmentCountOf(100)})
	if err != nil {
		log.Fatal(err)
	}
	switch {
	case adj.JSON201 != nil:
		fmt.Println("stored at", adj.JSON201.Seq, "in partition", adj.JSON201.Partition)
	case adj.JSON200 != nil:
		fmt.Println("stored before, at", adj.JSON200.Seq)
	case adj.JSON400 != nil:
		log.Fatalf("refused: %s", adj.JSON400.Error)
	default:
		log.Fatalf("status %d: %s", adj.StatusCode(), adj.Body)
	}
	if _, err := c.ReserveWithResponse(ctx, nil,
		client.ReserveJSONRequestBody{LocationId: "STL", Sku: "123123", Count: client.ReservationCountOf(10)}); err != nil {
		log.Fatal(err)
	}
	// The view follows the log by a few milliseconds: a 404 or an older
	// seq right after a command is normal.
	pos, err := c.GetPositionWithResponse(ctx, "STL", "123123", nil)
	if err != nil {
		log.Fatal(err)
	}
	if pos.JSON200 != nil {
		fmt.Println("sellable:", pos.JSON200.Count)
	}
}
