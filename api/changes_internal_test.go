package api

import (
	"context"
	"testing"
	"time"

	"github.com/sellable/inventory/feed"
)

// A change that arrives alone waits for the linger, and what was queued
// meanwhile joins its write, up to the batch's capacity.
func TestFeedWriterLingerTopsUpTheBatch(t *testing.T) {
	sub := feed.NewSubscription(8, nil)
	ctx := context.Background()
	sub.Offer(feed.Change{Seq: 1})
	batch, err := sub.Next(ctx, make([]feed.Change, 0, 3), time.Second)
	if err != nil || len(batch) != 1 {
		t.Fatalf("first: %v %v", batch, err)
	}
	for id := uint64(2); id <= 4; id++ {
		sub.Offer(feed.Change{Seq: id})
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	batch = more(ctx, sub, batch, timer, time.Millisecond)
	if len(batch) != 3 || batch[0].Seq != 1 || batch[1].Seq != 2 || batch[2].Seq != 3 {
		t.Fatalf("after the linger: %v, want changes 1 to 3 (the batch's capacity)", batch)
	}
	if sub.Queued() != 1 {
		t.Errorf("%d still queued, want change 4", sub.Queued())
	}
}
