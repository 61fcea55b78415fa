package command_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// TestReservationsAgainstModel is the property test of cart reservations:
// workers interleave reserve, release, confirm and fulfil (through the
// HTTP endpoints), adjust (restocks only, so nothing but a reservation
// takes stock) and expire (through Expire, the hook of the expiry
// mechanism) at random, concurrently, over a real server with two
// calculator instances sharing the partitions.
// Then:
//   - folding the stored events of every key in stream order, sellable is
//     never below zero after any event (no reservation oversold, not even
//     for a moment);
//   - every reservation's lines were held once and left at most once, as
//     its final state says;
//   - each position's onHand and reserved equal the model's: the stock
//     added, less what fulfilled reservations shipped; what active and
//     confirmed reservations hold.
//
// Without the expected-sequence check racing reserves oversell and the
// first property fails; without the cart record's expectation a racing
// release and expire both return the units and the third fails.
func TestReservationsAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	s := systemtest.Start(t, systemtest.Config{Partitions: 4})
	s.StartCalculator(t, nil, nil)
	s.StartCalculator(t, nil, nil)
	ctx := context.Background()
	r := s.Reservations
	base := s.ServeAPI(t, slog.New(slog.DiscardHandler)).URL + "/inventory/reservations"
	post := func(url string, body any) (int, error) {
		var rd io.Reader = http.NoBody
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				return 0, err
			}
			rd = bytes.NewReader(b)
		}
		resp, err := http.Post(url, "application/json", rd)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	keys := []sellable.Key{{LocationID: "STL", SKU: "a"}, {LocationID: "NYC", SKU: "b"}, {LocationID: "SFO", SKU: "c"}, {LocationID: "STL", SKU: "d"}}
	added := map[sellable.Key]int64{}
	for _, k := range keys {
		adjust(t, s, k, 4)
		added[k] = 4
	}

	var mu sync.Mutex // guards added and ids
	var ids []string
	pick := func(rng *rand.Rand) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return "", false
		}
		return ids[rng.IntN(len(ids))], true
	}
	const workers, ops = 6, 25
	var wg sync.WaitGroup
	for w := range workers {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for i := range ops {
				switch op := rng.IntN(10); {
				case op < 4: // reserve 1..3 distinct keys, 1..3 each
					n := 1 + rng.IntN(3)
					var lines []map[string]any
					for _, j := range rng.Perm(len(keys))[:n] {
						lines = append(lines, map[string]any{"locationId": keys[j].LocationID, "sku": keys[j].SKU, "count": 1 + rng.Int64N(3)})
					}
					id := fmt.Sprintf("w%d-%d", w, i)
					code, err := post(base, map[string]any{"reservationId": id, "lines": lines})
					switch {
					case err != nil:
						t.Errorf("reserve %s: %v", id, err)
					case code == http.StatusCreated:
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
					case code != http.StatusConflict:
						t.Errorf("reserve %s: status %d", id, code)
					}
				case op < 6: // restock
					k := keys[rng.IntN(len(keys))]
					n := 1 + rng.Int64N(3)
					if _, err := s.Commands.Record(ctx, sellable.Command{Kind: sellable.Adjustment, LocationID: k.LocationID, SKU: k.SKU, Count: n}); err != nil {
						t.Errorf("adjust: %v", err)
						continue
					}
					mu.Lock()
					added[k] += n
					mu.Unlock()
				default: // a step on a reservation someone made
					id, ok := pick(rng)
					if !ok {
						continue
					}
					if op == 7 { // the expiry mechanism's hook
						if _, err := r.Expire(ctx, id); err != nil && !errors.Is(err, sellable.ErrTransition) {
							t.Errorf("expire %s: %v", id, err)
						}
						continue
					}
					step := map[int]string{6: "release", 8: "confirm", 9: "fulfil"}[op]
					if code, err := post(base+"/"+id+"/"+step, nil); err != nil || (code != http.StatusOK && code != http.StatusConflict) {
						t.Errorf("%s %s: %d %v", step, id, code, err)
					}
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	// The model, from the reservations' final states.
	wantOnHand, wantReserved := map[sellable.Key]int64{}, map[sellable.Key]int64{}
	for k, n := range added {
		wantOnHand[k] = n
	}
	leaves := map[string]int{} // id -> line events that should end its holds
	holds := map[string]int{}
	for _, id := range ids {
		res, err := r.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		holds[id] = len(res.Lines)
		for _, l := range res.Lines {
			switch res.State {
			case sellable.Active, sellable.Confirmed:
				wantReserved[l.Key] += l.Count
			case sellable.Fulfilled:
				wantOnHand[l.Key] -= l.Count
			}
		}
		if res.State != sellable.Active && res.State != sellable.Confirmed {
			leaves[id] = len(res.Lines)
		}
	}
	// Every stored event, in order: sellable never below zero, and each
	// reservation's lines held once and left at most once.
	st, err := s.JS.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(streams.CartFilter))
	if err != nil {
		t.Fatal(err)
	}
	events := info.State.Msgs
	for _, n := range info.State.Subjects {
		events -= n // the carts' records
	}
	cons, err := s.JS.OrderedConsumer(ctx, streams.EventStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"inventory.*.*.*.*"}})
	if err != nil {
		t.Fatal(err)
	}
	folded := map[sellable.Key]*sellable.Position{}
	gotHolds, gotLeaves := map[string]int{}, map[string]int{}
	for read := uint64(0); read < events; {
		msgs, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		var last uint64
		for m := range msgs.Messages() {
			n++
			read++
			meta, _ := m.Metadata()
			last = meta.Sequence.Stream
			e, _, err := s.Wire.Decoders.DecodeStored(ctx, m.Subject(), m.Headers(), m.Data())
			if err != nil {
				t.Fatalf("event %d: %v", last, err)
			}
			p := folded[e.Key]
			if p == nil {
				p = &sellable.Position{}
				folded[e.Key] = p
			}
			p.Apply(e.Kind, e.Count, last, time.Time{})
			if p.Count < 0 {
				t.Fatalf("event %d (%v of %d on %v) took sellable to %d", last, e.Kind, e.Count, e.Key, p.Count)
			}
			switch e.Kind {
			case sellable.Hold:
				gotHolds[e.ReservationID]++
			case sellable.Release, sellable.Expiry, sellable.Fulfilment:
				gotLeaves[e.ReservationID]++
			}
		}
		if n == 0 {
			t.Fatalf("read %d of %d events", read, events)
		}
	}
	for _, id := range ids {
		if gotHolds[id] != holds[id] || gotLeaves[id] != leaves[id] {
			t.Errorf("reservation %s: %d holds, %d line releases; want %d and %d", id, gotHolds[id], gotLeaves[id], holds[id], leaves[id])
		}
	}
	for _, k := range keys {
		poll.Until(t, 10*time.Second, "position "+k.SKU, func() error {
			p, err := s.View.Get(ctx, k.LocationID, k.SKU)
			if err != nil || p.OnHand != wantOnHand[k] || p.Reserved != wantReserved[k] {
				return fmt.Errorf("%+v %v, model onHand %d reserved %d", p, err, wantOnHand[k], wantReserved[k])
			}
			return nil
		})
	}
	t.Logf("%d reservations made, %d events", len(ids), info.State.Msgs)
}
