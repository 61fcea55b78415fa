package projection_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// TestProjectorSurvivesDatabaseOutage stops the shared local Cassandra
// (scripts/cassandra.sh), publishes while it is down, starts it again and
// expects every change to arrive: the projector backs off and keeps its
// place, the reader answers ErrUnavailable meanwhile, and the sessions
// recover without a restart of the service.
func TestProjectorSurvivesDatabaseOutage(t *testing.T) {
	if os.Getenv("PROJECTION_FAULT_TEST") != "1" {
		t.Skip("restarts the shared Cassandra: set PROJECTION_FAULT_TEST=1")
	}
	cfg := testConfig(t)
	js, svc := runService(t, cfg)
	r := svc.Reader()

	batch := func(seq uint64, n int) []sellable.Position {
		var ps []sellable.Position
		for i := range n {
			p := pos(fmt.Sprint("F", i%3), fmt.Sprint("s", i), int64(seq)+int64(i), 1, seq+uint64(i))
			publish(t, js, p)
			ps = append(ps, p)
		}
		return ps
	}
	all := func(ps []sellable.Position) func() bool {
		return func() bool {
			for _, p := range ps {
				if !has(r, p) {
					return false
				}
			}
			return true
		}
	}

	eventually(t, time.Minute, "first batch projected", all(batch(1, 50)))

	cassandra(t, "stop")
	t.Cleanup(func() { cassandra(t, "start") }) // whatever happens below
	eventually(t, 30*time.Second, "reader reports the outage", func() bool {
		_, err := r.Get(t.Context(), "F0", "s0")
		return errors.Is(err, sellable.ErrUnavailable)
	})

	second := batch(1000, 100) // 50 updates and 50 new positions
	eventually(t, 30*time.Second, "projector tried and held on", func() bool {
		for i := range streams.DefaultPartitions {
			c, err := js.Consumer(context.Background(), kv.StreamName(i), projection.ConsumerName(testConsumer, i))
			if err != nil {
				return false
			}
			info, err := c.Info(context.Background())
			if err == nil && info.NumAckPending > 0 && info.NumRedelivered > 0 {
				return true
			}
		}
		return false
	})

	cassandra(t, "start")
	eventually(t, 2*time.Minute, "second batch projected after restart", all(second))
	eventually(t, 30*time.Second, "every change acked", func() bool { return caughtUp(t, js) })
}
