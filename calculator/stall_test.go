package calculator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// stuckCodec reads JSON bodies, but its decode does not return until the
// codec is freed: a decoder caught in a hostile body, without needing one.
type stuckCodec struct {
	decoding atomic.Int32
	release  chan struct{}
	once     sync.Once
}

func newStuckCodec() *stuckCodec { return &stuckCodec{release: make(chan struct{})} }

func (c *stuckCodec) ContentType() string { return "application/x-test-stuck" }

func (c *stuckCodec) EncodeEvent(ev sellable.Event) ([]byte, error) {
	return wire.JSON{}.EncodeEvent(ev)
}

func (c *stuckCodec) DecodeEvent(ctx context.Context, data []byte) (wire.Body, error) {
	c.decoding.Add(1)
	<-c.release
	return wire.JSON{}.DecodeEvent(ctx, data)
}

func (c *stuckCodec) free() { c.once.Do(func() { close(c.release) }) }

// failingCodec reads JSON bodies, but while failing it answers as if the
// schema registry were unreachable: the calculator must retry such a
// message, never dead-letter it, so its partition cannot move.
type failingCodec struct{ failing atomic.Bool }

func (c *failingCodec) ContentType() string { return "application/x-test-failing" }

func (c *failingCodec) EncodeEvent(ev sellable.Event) ([]byte, error) {
	return wire.JSON{}.EncodeEvent(ev)
}

func (c *failingCodec) DecodeEvent(ctx context.Context, data []byte) (wire.Body, error) {
	if c.failing.Load() {
		return wire.Body{}, fmt.Errorf("%w: test registry down", wire.ErrRegistry)
	}
	return wire.JSON{}.DecodeEvent(ctx, data)
}

// publishAs stores an adjustment of n for k as a JSON body labelled with
// contentType, and returns its sequence.
func (e *env) publishAs(t *testing.T, contentType string, k sellable.Key, n int) uint64 {
	t.Helper()
	m := nats.NewMsg(streams.EventSubject(sellable.Adjustment, k))
	m.Header.Set(streams.HeaderContentType, contentType)
	m.Data = []byte(`{"count":` + strconv.Itoa(n) + `}`)
	ack, err := e.JS.PublishMsg(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	return ack.Sequence
}

func gauge(p int) float64 {
	return testutil.ToFloat64(metrics.PartitionStalled.WithLabelValues(strconv.Itoa(p)))
}

// A decode that never returns must not keep the calculator from stopping:
// on SIGTERM the process would otherwise never exit.
func TestShutdownDoesNotWaitForStuckDecode(t *testing.T) {
	e := setup(t)
	stuck := newStuckCodec()
	_, stop := e.startCalculatorWith(t, "c1", wire.NewCodecs(stuck), slog.New(slog.DiscardHandler))
	t.Cleanup(stuck.free) // runs before the calculator's own cleanup
	e.publishAs(t, stuck.ContentType(), sellable.Key{LocationID: "STUCK", SKU: "1"}, 1)
	poll.Until(t, 10*time.Second, "decode started", func() error {
		if stuck.decoding.Load() == 0 {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	poll.Until(t, 5*time.Second, "calculator stopped", func() error {
		select {
		case <-stopped:
			return nil
		default:
			return fmt.Errorf("still waiting for the decode")
		}
	})
}

// A batch that does not end shows as stalled, in the status and the
// metric, and stops showing once it ends.
func TestStuckBatchIsReportedStalled(t *testing.T) {
	e := setup(t)
	stuck := newStuckCodec()
	c, _ := e.startCalculatorConfig(t, "c1", wire.NewCodecs(stuck), slog.New(slog.DiscardHandler), func(cfg *calculator.Config) {
		cfg.StallAfter = 300 * time.Millisecond
	})
	t.Cleanup(stuck.free)
	k := sellable.Key{LocationID: "STUCK", SKU: "2"}
	p := streams.Partition(k, partitions)
	seq := e.publishAs(t, stuck.ContentType(), k, 3)
	poll.Until(t, 10*time.Second, "partition reported stalled", func() error {
		ps := c.Status().Stats[p]
		if !ps.Stalled || ps.StalledSince == nil || !strings.Contains(ps.StalledReason, "batch") {
			return fmt.Errorf("status %+v", ps)
		}
		if s := c.Stalls(); len(s) != 1 || s[0].Partition != p {
			return fmt.Errorf("stalls %+v", s)
		}
		if g := gauge(p); g != 1 {
			return fmt.Errorf("stalled gauge %v", g)
		}
		return nil
	})
	stuck.free()
	e.wantPosition(t, k.LocationID, k.SKU, 3, seq)
	poll.Until(t, 10*time.Second, "stall cleared", func() error {
		if ps := c.Status().Stats[p]; ps.Stalled {
			return fmt.Errorf("status %+v", ps)
		}
		if g := gauge(p); g != 0 {
			return fmt.Errorf("stalled gauge %v", g)
		}
		return nil
	})
}

// A partition whose worker fails again and again at the same event is
// stalled: /calculator/status says so with the error, /readyz is not
// ready and names it, the metrics count the restarts. Once the cause
// goes, so does all of that.
func TestFailingPartitionIsReportedStalled(t *testing.T) {
	e := setup(t)
	failing := &failingCodec{}
	failing.failing.Store(true)
	c, _ := e.startCalculatorWith(t, "c1", wire.NewCodecs(failing), slog.New(slog.DiscardHandler))
	srv := api.NewServer(slog.New(slog.DiscardHandler))
	(&app.Pipeline{View: e.store, Calculator: c}).Register(srv, e.NC, e.JS)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	get := func(path string) (int, string) {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	k := sellable.Key{LocationID: "FAIL", SKU: "1"}
	p := streams.Partition(k, partitions)
	restarts := testutil.ToFloat64(metrics.PartitionRestarts.WithLabelValues(strconv.Itoa(p)))
	seq := e.publishAs(t, failing.ContentType(), k, 5)
	poll.Until(t, 10*time.Second, "stall reported", func() error {
		code, body := get("/readyz")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, fmt.Sprintf("partition %d stalled", p)) || !strings.Contains(body, "test registry down") {
			return fmt.Errorf("/readyz %d %s", code, body)
		}
		code, body = get("/calculator/status")
		var st struct {
			Stats map[string]calculator.PartitionStats `json:"stats"`
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil || code != http.StatusOK {
			return fmt.Errorf("/calculator/status %d %s: %v", code, body, err)
		}
		ps := st.Stats[strconv.Itoa(p)]
		if !ps.Stalled || ps.StalledSince == nil || !strings.Contains(ps.LastError, "test registry down") || ps.Restarts < 1 {
			return fmt.Errorf("status of partition %d: %+v", p, ps)
		}
		if g := gauge(p); g != 1 {
			return fmt.Errorf("stalled gauge %v", g)
		}
		if r := testutil.ToFloat64(metrics.PartitionRestarts.WithLabelValues(strconv.Itoa(p))); r <= restarts {
			return fmt.Errorf("restarts counter %v", r)
		}
		return nil
	})

	failing.failing.Store(false)
	e.wantPosition(t, k.LocationID, k.SKU, 5, seq)
	poll.Until(t, 10*time.Second, "ready again", func() error {
		if code, body := get("/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz %d %s", code, body)
		}
		if ps := c.Status().Stats[p]; ps.Stalled {
			return fmt.Errorf("status %+v", ps)
		}
		if g := gauge(p); g != 0 {
			return fmt.Errorf("stalled gauge %v", g)
		}
		return nil
	})
}
