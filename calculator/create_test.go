package calculator_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/metrics"
)

// creates is how many keys the writers of this process created blind.
func creates() float64 {
	n := 0.0
	for p := range partitions {
		n += testutil.ToFloat64(metrics.WriterCreates.WithLabelValues(strconv.Itoa(p)))
	}
	return n
}

// A growing catalogue: events on ever new keys, two each, while the
// partitions change hands. The owner creates the new keys blind; the one
// taking over mid-creation replays from the checkpoint onto keys its
// predecessor already created (reading them, or failing a blind create
// and reading) and goes on creating. Every event counts exactly once.
func TestTakeoverWhileCreatingNewKeysCountsEachEventOnce(t *testing.T) {
	e := setup(t)
	c1, stop1 := e.startCalculator(t, "c1")
	poll.Until(t, 10*time.Second, "c1 owning every partition", func() error {
		if o := c1.Owned(); len(o) != partitions {
			return fmt.Errorf("c1 owns %v", o)
		}
		return nil
	})
	base := creates()
	n := 0
	pub := e.publishOn(t, func() string { n++; return strconv.Itoa(n / 2) })
	waitCreates := func(who string, over float64) float64 {
		t.Helper()
		poll.Until(t, 20*time.Second, who+" creating keys blind", func() error {
			if c := creates(); c < over+50 {
				return fmt.Errorf("%v blind creates", c-over)
			}
			return nil
		})
		return creates()
	}
	mid := waitCreates("c1", base)
	c2, _ := e.startCalculator(t, "c2")
	stop1()
	poll.Until(t, 10*time.Second, "c2 taking every partition over", func() error {
		if o := c2.Owned(); len(o) != partitions {
			return fmt.Errorf("c2 owns %v", o)
		}
		return nil
	})
	waitCreates("c2", mid)
	pub.check(t)
	if len(pub.want) < 200 {
		t.Fatal(errors.New("too few keys to have created any blind"))
	}
}
