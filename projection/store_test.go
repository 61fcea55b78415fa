package projection_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/sellable"
)

func TestUpsertAndGet(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	want := pos("STL", "123123", 100, 10, 7)
	if err := s.Upsert(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "STL", "123123")
	if err != nil || got != want {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, want)
	}
	// Identifiers are data: any UTF-8 within the limits round-trips.
	odd := pos("loc.with*dots>", "sku with spaces/ü", 1, 0, 3)
	if err := s.Upsert(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, odd.LocationID, odd.SKU); err != nil || got != odd {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, odd)
	}
	if _, err := s.Get(ctx, "STL", "absent"); !errors.Is(err, sellable.ErrNotFound) {
		t.Fatalf("absent: %v, want ErrNotFound", err)
	}
	var fe *sellable.FieldError
	if _, err := s.Get(ctx, "", "x"); !errors.As(err, &fe) || fe.Field != "locationId" {
		t.Fatalf("empty location: %v, want a FieldError", err)
	}
	for _, bad := range []sellable.Position{pos("STL", "x", 1, 0, 0), pos("", "x", 1, 0, 1), pos("STL", "x", 1, 0, 1<<63)} {
		if err := s.Upsert(ctx, bad); !errors.Is(err, projection.ErrBadChange) {
			t.Errorf("Upsert(%+v) = %v, want ErrBadChange", bad, err)
		}
	}
}

func TestOlderChangeNeverWins(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	steps := []struct {
		p    sellable.Position
		want uint64
	}{
		{pos("STL", "a", 100, 0, 10), 10},
		{pos("STL", "a", 50, 0, 5), 10},   // older, arriving late
		{pos("STL", "a", 100, 0, 10), 10}, // redelivered
		{pos("STL", "a", 100, 30, 12), 12},
		{pos("STL", "a", 100, 20, 11), 12},
	}
	for i, st := range steps {
		if err := s.Upsert(ctx, st.p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "STL", "a")
		if err != nil || got.Seq != st.want || got.Count != got.OnHand-got.Reserved {
			t.Fatalf("step %d: %+v, %v; want seq %d", i, got, err, st.want)
		}
	}
	if got, _ := s.Get(ctx, "STL", "a"); got != pos("STL", "a", 100, 30, 12) {
		t.Fatalf("final %+v", got)
	}
}

func TestConcurrentUpsertsKeepTheNewest(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	// 300 values of each of 5 positions, every one written twice, in
	// random order from 16 writers: the highest seq must be what stays.
	var all []sellable.Position
	for k := range 5 {
		for seq := uint64(1); seq <= 300; seq++ {
			p := pos("L", fmt.Sprint("sku", k), int64(seq), int64(k), seq)
			all = append(all, p, p)
		}
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	work := make(chan sellable.Position)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for p := range work {
				if err := s.Upsert(ctx, p); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for _, p := range all {
		work <- p
	}
	close(work)
	wg.Wait()
	for k := range 5 {
		sku := fmt.Sprint("sku", k)
		if got, err := s.Get(ctx, "L", sku); err != nil || got != pos("L", sku, 300, int64(k), 300) {
			t.Errorf("%s: %+v, %v", sku, got, err)
		}
	}
}

func TestListPages(t *testing.T) {
	s, _ := openStore(t)
	ctx := t.Context()
	const n = 25
	for i := range n {
		if err := s.Upsert(ctx, pos("A", fmt.Sprintf("sku-%02d", i), int64(i), 0, uint64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 { // another location, which must not show up
		if err := s.Upsert(ctx, pos("B", fmt.Sprint("b", i), 1, 0, 1)); err != nil {
			t.Fatal(err)
		}
	}
	var got []sellable.Position
	token, pages := "", 0
	for {
		items, next, err := s.List(ctx, "A", token, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > 10 {
			t.Fatalf("page of %d, limit 10", len(items))
		}
		got = append(got, items...)
		pages++
		if next == "" {
			break
		}
		if pages > n {
			t.Fatal("paging does not end")
		}
		token = next
	}
	if len(got) != n || pages < 3 {
		t.Fatalf("%d items in %d pages, want %d in at least 3", len(got), pages, n)
	}
	for i, p := range got {
		if want := pos("A", fmt.Sprintf("sku-%02d", i), int64(i), 0, uint64(i+1)); p != want {
			t.Fatalf("item %d: %+v, want %+v", i, p, want)
		}
	}
	_, tokenOfA, err := s.List(ctx, "A", "", 10)
	if err != nil || tokenOfA == "" {
		t.Fatalf("first page: token %q, %v", tokenOfA, err)
	}
	if items, next, err := s.List(ctx, "nowhere", "", 10); err != nil || len(items) != 0 || next != "" {
		t.Fatalf("empty location: %v %q %v", items, next, err)
	}

	cases := []struct {
		token string
		limit int
		field string
	}{
		{"", 0, "limit"},
		{"", projection.MaxListLimit + 1, "limit"},
		{"not base64!", 10, "pageToken"},
		{"AAAAAAAAAAAAAAAA", 10, "pageToken"},
		{"c29tZSBnYXJiYWdlIHBhZ2luZyBzdGF0ZQ", 10, "pageToken"},
		{tokenOfA[:len(tokenOfA)-2], 10, "pageToken"},
	}
	if _, _, err := s.List(ctx, "B", tokenOfA, 10); err == nil {
		t.Error("a token of location A was taken for location B")
	}
	for _, c := range cases {
		_, _, err := s.List(ctx, "A", c.token, c.limit)
		var fe *sellable.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("List(%q, %d) = %v, want a FieldError on %s", c.token, c.limit, err, c.field)
		}
	}
}

func TestReaderWithoutSessionIsUnavailable(t *testing.T) {
	r := projection.NewReader(nil)
	if _, err := r.Get(context.Background(), "a", "b"); !errors.Is(err, sellable.ErrUnavailable) {
		t.Fatalf("Get: %v", err)
	}
	if _, _, err := r.List(context.Background(), "a", "", 1); !errors.Is(err, sellable.ErrUnavailable) {
		t.Fatalf("List: %v", err)
	}
}
