package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sellable/inventory/sellable"
)

// ModeReservations measures POST /inventory/reservations: carts decided
// on the log (issue 12). It runs four sections: single-line and 5-line
// carts, each on spread keys and with one hot SKU in every cart.
const ModeReservations Mode = "reservations"

// DefaultReservations is how many carts each reservations section posts.
const DefaultReservations = 500

// cartShape is one reservations section.
type cartShape struct {
	lines int
	hot   bool
}

func (c cartShape) String() string {
	keys := "spread keys"
	if c.hot {
		keys = "one hot SKU"
	}
	return fmt.Sprintf("%d-line carts, %s", c.lines, keys)
}

// reservationShapes are the sections of ModeReservations, in order.
var reservationShapes = []cartShape{{1, false}, {5, false}, {1, true}, {5, true}}

// stockPerKey is what each key of a reservations run is given before the
// carts: enough that no cart is refused for lack of stock, so the figures
// are of decisions granted, not of refusals.
const stockPerKey = 100_000_000

// ConflictsMetric is the server's counter of decisions taken again
// because a key moved between the read and the publish (the
// expected-last-subject-sequence check refused the batch). The run reads
// it from /metrics before and after each section; a run alone against
// the system counts only its own carts.
const ConflictsMetric = "inventory_decision_retries_total"

type reserveLine struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
}

type reserveBody struct {
	ReservationID string        `json:"reservationId"`
	Lines         []reserveLine `json:"lines"`
	TTL           string        `json:"ttl,omitempty"`
}

// reservations runs one section: stock every key it will use, then post
// cfg.Reservations carts of shape from cfg.Concurrency clients.
func (t *target) reservations(ctx context.Context, cfg Config, shape cartShape, progress io.Writer) (Section, error) {
	sec := Section{Mode: ModeReservations, Settings: fmt.Sprintf("%s, %d carts, concurrency=%d keys=%d",
		shape, cfg.Reservations, cfg.Concurrency, cfg.Keys)}
	if shape.lines > cfg.Keys {
		return sec, fmt.Errorf("loadtest: %d-line carts need at least %d keys", shape.lines, shape.lines)
	}
	// Every section has keys of its own, so sections do not share stock
	// or contention, and a rerun does not reuse reservation ids.
	run := fmt.Sprintf("%s-r%d-%d%v-%d", cfg.Prefix, cfg.Seed, shape.lines, shape.hot, time.Now().UnixNano())
	ks := newKeySet(run, cfg.Keys)
	if err := t.stock(ctx, cfg, ks, progress); err != nil {
		return sec, err
	}
	before, _ := t.http.counter(ctx, ConflictsMetric)

	b := newBar(progress, int64(cfg.Reservations), shape.String(), "carts")
	var lat latencies
	var granted, refused, failed atomic.Int64
	var errMu sync.Mutex
	var firstErr error
	noteErr := func(err error) {
		failed.Add(1)
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(cfg.Seed, uint64(w)+1))
			for i := range jobs {
				body := reserveBody{ReservationID: fmt.Sprintf("%s-%d", run, i), TTL: "15m"}
				for _, k := range cartKeys(rnd, ks.len(), shape) {
					key := ks.keys[k]
					body.Lines = append(body.Lines, reserveLine{LocationID: key.LocationID, SKU: key.SKU, Count: 1})
				}
				t0 := time.Now()
				status, err := t.http.reserve(ctx, body)
				switch {
				case err != nil:
					noteErr(err)
				case status == http.StatusCreated:
					lat.add(time.Since(t0))
					granted.Add(1)
				case status == http.StatusConflict:
					refused.Add(1)
				default:
					noteErr(fmt.Errorf("loadtest: POST /inventory/reservations: status %d", status))
				}
				b.add(1)
			}
		})
	}
	for i := range cfg.Reservations {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	b.finish()
	after, errAfter := t.http.counter(ctx, ConflictsMetric)

	g := int(granted.Load())
	sec.httpRate("reservations granted", rate(g, elapsed))
	sec.httpRate("lines reserved", rate(g*shape.lines, elapsed))
	sec.httpLatency("POST→201", lat.summary(), false)
	sec.count("granted", g)
	sec.count("refused (409)", int(refused.Load()))
	sec.count("errors", int(failed.Load()))
	if errAfter == nil {
		conflicts := after - before
		sec.count("decisions retried (key moved)", int(conflicts))
		if g > 0 {
			sec.add("retries per granted cart", conflicts/float64(g), Ratio)
		}
	}
	if firstErr != nil {
		if failed.Load() > int64(maxFailures(cfg.Reservations)) {
			return sec, firstErr
		}
		sec.Error = "first error: " + firstErr.Error()
	}
	return sec, ctx.Err()
}

// cartKeys draws the distinct keys of one cart: uniformly over the key
// set, or key 0 (the hot SKU) and shape.lines-1 others.
func cartKeys(rnd *rand.Rand, n int, shape cartShape) []int {
	picked := make(map[int]bool, shape.lines)
	out := make([]int, 0, shape.lines)
	if shape.hot {
		picked[0] = true
		out = append(out, 0)
	}
	for len(out) < shape.lines {
		k := rnd.IntN(n)
		if shape.hot && k == 0 || picked[k] {
			continue
		}
		picked[k] = true
		out = append(out, k)
	}
	return out
}

// stockSource gives every key stockPerKey, once, in order.
type stockSource struct{ i int }

func (s *stockSource) next() event {
	e := event{key: s.i, kind: sellable.Adjustment, count: stockPerKey}
	s.i++
	return e
}

// stock puts stockPerKey on every key over NATS and waits until the view
// shows all of it, so the carts' decisions do not wait for the view.
func (t *target) stock(ctx context.Context, cfg Config, ks *keySet, progress io.Writer) error {
	v, err := watchView(ctx, t.js, t.partitions, ks)
	if err != nil {
		return err
	}
	defer v.close()
	b := newBar(progress, int64(ks.len()), "stocking keys", "keys")
	st, err := t.drive(ctx, driveOpts{
		via: ViaNATS, n: ks.len(), src: &stockSource{}, keys: ks, conc: cfg.Concurrency, window: cfg.Window,
		onAck: func(a ack) { v.track(a, false) }, bar: b,
	})
	b.finish()
	if err != nil {
		return sendError(err, st)
	}
	_, err = v.wait(ctx, cfg.Timeout, nil)
	return err
}

// reserve posts one cart and returns the status.
func (h *httpClient) reserve(ctx context.Context, body reserveBody) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	resp, err := h.c.ReserveCartWithBody(ctx, "application/json", bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// counter sums every series of a Prometheus counter on /metrics.
func (h *httpClient) counter(ctx context.Context, name string) (float64, error) {
	resp, err := h.c.Metrics(ctx)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("loadtest: GET /metrics: status %d", resp.StatusCode)
	}
	var sum float64
	found := false
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("loadtest: /metrics has no %s", name)
	}
	return sum, nil
}
