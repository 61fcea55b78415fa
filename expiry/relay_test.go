package expiry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sellable/inventory/expiry"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// recorder is an Expirer that records its calls and fails the first
// fail calls of each reservation.
type recorder struct {
	mu    sync.Mutex
	fail  int
	calls map[string][]time.Time
	done  map[string]int
}

func newRecorder(fail int) *recorder {
	return &recorder{fail: fail, calls: map[string][]time.Time{}, done: map[string]int{}}
}

func (r *recorder) Expire(_ context.Context, d expiry.Due) error {
	id, at := d.ID, d.At
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[id] = append(r.calls[id], time.Now())
	if len(r.calls[id]) <= r.fail {
		return errors.New("view not there yet")
	}
	if !at.IsZero() && len(d.Keys) == 1 && d.Keys[0].SKU == id {
		r.done[id]++
	}
	return nil
}

func (r *recorder) decided(id string) (int, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done[id], append([]time.Time(nil), r.calls[id]...)
}

func keys(id string) []sellable.Key { return []sellable.Key{{LocationID: "L", SKU: id}} }

func startRelay(t *testing.T, s *natstest.Server, e expiry.Expirer) (stop func()) {
	t.Helper()
	cfg := expiry.DefaultConfig()
	cfg.Retry = 50 * time.Millisecond
	r, err := expiry.NewRelay(context.Background(), s.JS, e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return stacktest.Go(t, r.Run)
}

func scheduleMsgs(t *testing.T, s *natstest.Server) uint64 {
	t.Helper()
	str, err := s.JS.Stream(context.Background(), streams.ScheduleStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := str.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func TestRelayDecidesEachScheduleOnceAtItsTime(t *testing.T) {
	s := stacktest.Start(t, 0)
	rec := newRecorder(0)
	startRelay(t, s.Server, rec)
	sched := expiry.NewScheduler(s.JS)
	ctx := context.Background()
	at := time.Now().Add(700 * time.Millisecond)
	ids := []string{"a", "b.c *", "d"}
	for _, id := range ids {
		if err := sched.Schedule(ctx, id, at, keys(id)); err != nil {
			t.Fatal(err)
		}
	}
	// Scheduling the same instant again (a retried request) is one
	// schedule, not two.
	if err := sched.Schedule(ctx, "a", at, keys("a")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "every schedule decided", func() error {
		for _, id := range ids {
			if n, _ := rec.decided(id); n != 1 {
				return fmt.Errorf("%q decided %d times", id, n)
			}
		}
		return nil
	})
	for _, id := range ids {
		_, calls := rec.decided(id)
		if calls[0].Before(at.Truncate(time.Millisecond)) {
			t.Fatalf("%q decided at %v, before its time %v", id, calls[0], at)
		}
		if late := calls[0].Sub(at); late > time.Second {
			t.Fatalf("%q decided %v after its time", id, late)
		}
	}
	poll.Until(t, 5*time.Second, "fired schedules consumed", func() error {
		if n := scheduleMsgs(t, s.Server); n != 0 {
			return fmt.Errorf("%d messages left", n)
		}
		return nil
	})
	for _, id := range ids {
		if n, calls := rec.decided(id); n != 1 || len(calls) != 1 {
			t.Fatalf("%q decided %d times in %d calls, want once", id, n, len(calls))
		}
	}
}

func TestRelayRetriesAFailedDecision(t *testing.T) {
	s := stacktest.Start(t, 0)
	rec := newRecorder(2)
	startRelay(t, s.Server, rec)
	if err := expiry.NewScheduler(s.JS).Schedule(context.Background(), "r", time.Now().Add(300*time.Millisecond), keys("r")); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "decided after two failures", func() error {
		if n, calls := rec.decided("r"); n != 1 || len(calls) != 3 {
			return fmt.Errorf("decided %d times in %d calls", n, len(calls))
		}
		return nil
	})
	poll.Until(t, 5*time.Second, "fired schedule consumed", func() error {
		if n := scheduleMsgs(t, s.Server); n != 0 {
			return fmt.Errorf("%d messages left", n)
		}
		return nil
	})
}

// TestScheduleFiresWhileEverythingIsDown: the schedule is stored, the
// server stops before it is due and starts again after, no relay runs
// at the due time; the schedule still fires and, once a relay starts, is
// decided once.
func TestScheduleFiresWhileEverythingIsDown(t *testing.T) {
	dir := t.TempDir()
	s := natstest.StartIn(t, dir)
	ctx := context.Background()
	if err := streams.Ensure(ctx, s.JS, streams.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(500 * time.Millisecond)
	if err := expiry.NewScheduler(s.JS).Schedule(ctx, "r", at, keys("r")); err != nil {
		t.Fatal(err)
	}
	s.NC.Close()
	s.Shutdown()
	s.WaitForShutdown()
	poll.Until(t, 5*time.Second, "due time passes while the server is down", func() error {
		if time.Now().Before(at.Add(200 * time.Millisecond)) {
			return errors.New("not yet")
		}
		return nil
	})
	s = natstest.StartIn(t, dir)
	poll.Until(t, 5*time.Second, "schedule fired after the restart", func() error {
		str, err := s.JS.Stream(ctx, streams.ScheduleStream)
		if err != nil {
			return err
		}
		_, err = str.GetLastMsgForSubject(ctx, streams.ExpiryDueSubject("r"))
		return err
	})
	rec := newRecorder(0)
	startRelay(t, s, rec)
	poll.Until(t, 5*time.Second, "decided once", func() error {
		if n, _ := rec.decided("r"); n != 1 {
			return fmt.Errorf("decided %d times", n)
		}
		return nil
	})
}
