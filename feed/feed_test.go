package feed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sellable/inventory/feed"
)

// Live changes past the queue's capacity end the subscription as a slow
// consumer; what was queued is still read, then the reason, and Last
// says where to resume.
func TestSubscriptionDropsWhenTheQueueOverflows(t *testing.T) {
	s := feed.NewSubscription(2, feed.Cursor{10, 3})
	for id := uint64(11); id <= 12; id++ {
		if !s.Offer(feed.Change{ID: feed.Cursor{id, 3}}) {
			t.Fatalf("offer %d refused below capacity", id)
		}
	}
	if s.Offer(feed.Change{ID: feed.Cursor{13, 3}}) {
		t.Fatal("offer over capacity accepted")
	}
	buf := make([]feed.Change, 0, 8)
	got, err := s.Next(context.Background(), buf, time.Second)
	if err != nil || len(got) != 2 || got[1].ID.String() != "12.3" {
		t.Fatalf("queued changes: %v %v", got, err)
	}
	if _, err := s.Next(context.Background(), buf, time.Second); !errors.Is(err, feed.ErrSlowConsumer) {
		t.Fatalf("after the queue: %v, want ErrSlowConsumer", err)
	}
	if s.Last().String() != "12.3" {
		t.Errorf("Last %v, want 12.3", s.Last())
	}
}

// Put waits for room instead of dropping (catching up), until closed.
func TestSubscriptionPutWaitsForTheReader(t *testing.T) {
	s := feed.NewSubscription(1, nil)
	ctx := context.Background()
	if !s.Put(ctx, feed.Change{Seq: 1}) {
		t.Fatal("put refused")
	}
	done := make(chan bool)
	go func() { done <- s.Put(ctx, feed.Change{Seq: 2}) }()
	got, err := s.Next(ctx, make([]feed.Change, 0, 1), time.Second)
	if err != nil || len(got) != 1 || got[0].Seq != 1 {
		t.Fatalf("next: %v %v", got, err)
	}
	if !<-done {
		t.Fatal("waiting put refused once there was room")
	}
	s.Close(nil)
	if s.Put(ctx, feed.Change{Seq: 3}) {
		t.Error("put after close accepted")
	}
}

// Next without a wait returns what is queued, or nothing at once, or
// why the subscription ended.
func TestSubscriptionNextWithoutWaiting(t *testing.T) {
	s := feed.NewSubscription(4, nil)
	ctx := context.Background()
	buf := make([]feed.Change, 0, 4)
	if got, err := s.Next(ctx, buf, 0); got != nil || err != nil {
		t.Fatalf("empty queue: %v %v", got, err)
	}
	s.Offer(feed.Change{Seq: 1})
	if got, err := s.Next(ctx, buf, 0); len(got) != 1 || err != nil {
		t.Fatalf("one queued: %v %v", got, err)
	}
	s.Close(nil)
	if _, err := s.Next(ctx, buf, 0); !errors.Is(err, feed.ErrClosed) {
		t.Fatalf("closed: %v, want ErrClosed", err)
	}
}
