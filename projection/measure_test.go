package projection_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/projection"
)

// TestMeasureProjection reports, without asserting on them, the
// projector's sustained throughput (a backlog of PROJECTION_BACKLOG
// changes, default 20000, drained by a fresh projector) and the lag from
// publishing a change to reading its row (PROJECTION_LAG_N changes,
// default 2000, published at PROJECTION_LAG_RATE per second, default
// 500, each polled for with Get every millisecond):
//
//	bash scripts/cassandra.sh start
//	PROJECTION_MEASURE=1 go test -run TestMeasureProjection -v ./projection/
func TestMeasureProjection(t *testing.T) {
	if os.Getenv("PROJECTION_MEASURE") != "1" {
		t.Skip("a measurement, not a check: set PROJECTION_MEASURE=1")
	}
	backlog := envInt("PROJECTION_BACKLOG", 20000)
	lagN := envInt("PROJECTION_LAG_N", 2000)
	rate := envInt("PROJECTION_LAG_RATE", 500)

	store, cfg := openStore(t)
	js := stacktest.Start(t, 0).JS

	// Backlog first, then start the projector on it.
	for i := range backlog {
		m := viewMsg(t, pos(fmt.Sprint("B", i%100), fmt.Sprint("s", i), int64(i), 0, uint64(i+1)))
		if _, err := js.PublishMsgAsync(m); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("backlog not stored")
	}
	p, err := projection.NewProjector(js, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stacktest.Go(t, p.Run)

	start := time.Now()
	eventually(t, 10*time.Minute, "backlog drained", func() bool { return p.Written() >= uint64(backlog) })
	el := time.Since(start)
	t.Logf("throughput: %d changes drained in %v = %.0f upserts/s (MaxInFlight %d)",
		backlog, el.Round(time.Millisecond), float64(backlog)/el.Seconds(), cfg.MaxInFlight)

	// Lag: paced publishes, each watched by a poller.
	r := projection.NewReader(store)
	lags := make([]time.Duration, lagN)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := range lagN {
		<-tick.C
		want := pos("LAG", fmt.Sprint("s", i), int64(i), 0, uint64(1_000_000+i))
		t0 := time.Now()
		publish(t, js, want)
		wg.Go(func() {
			for !has(r, want) {
				if time.Since(t0) > time.Minute {
					lags[i] = time.Minute
					return
				}
				time.Sleep(time.Millisecond)
			}
			lags[i] = time.Since(t0)
		})
	}
	wg.Wait()
	slices.Sort(lags)
	q := func(f float64) time.Duration { return lags[int(f*float64(len(lags)-1))].Round(10 * time.Microsecond) }
	t.Logf("lag publish→readable over %d changes at %d/s: p50 %v  p90 %v  p99 %v  max %v",
		lagN, rate, q(0.5), q(0.9), q(0.99), lags[len(lags)-1].Round(10*time.Microsecond))
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
