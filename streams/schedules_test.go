package streams_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/stacktest"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// TestEventStreamCannotCarrySchedules is why schedules have a stream of
// their own: nats-server 2.15.2 refuses message schedules on a DiscardNew
// stream, and INVENTORY is DiscardNew.
func TestEventStreamCannotCarrySchedules(t *testing.T) {
	s := stacktest.Start(t, 0)
	cfg := streams.EventStreamConfig(s.Streams)
	cfg.AllowMsgSchedules = true
	_, err := s.JS.UpdateStream(context.Background(), cfg)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != 10052 {
		t.Fatalf("enabling schedules on %s: %v, want error 10052 (discard new)", streams.EventStream, err)
	}
	t.Logf("server says: %v", err)
}

// TestExpiryScheduleFiresIntoDueSubject checks the primitive expiry rests
// on: a `Nats-Schedule: @at <RFC 3339>` message fires once, at or after
// its time, onto its Nats-Schedule-Target with the schedule's body and a
// Nats-Scheduler header naming the schedule; the schedule is then gone,
// and the work-queue stream drops the fired message once it is acked.
func TestExpiryScheduleFiresIntoDueSubject(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	at := time.Now().Add(time.Second).Truncate(time.Millisecond)
	sched := streams.ExpiryScheduleSubject("res.1 *", at)
	m := nats.NewMsg(sched)
	m.Header.Set(streams.HeaderSchedule, streams.ScheduleAt(at))
	m.Header.Set(streams.HeaderScheduleTarget, streams.ExpiryDueSubject("res.1 *"))
	m.Data = []byte(`{"reservationId":"res.1 *"}`)
	if _, err := s.JS.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	cons, err := s.JS.CreateOrUpdateConsumer(ctx, streams.ScheduleStream, jetstream.ConsumerConfig{
		FilterSubject: streams.ScheduleDueFilter, AckPolicy: jetstream.AckExplicitPolicy,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	fired := time.Now()
	if fired.Before(at) {
		t.Fatalf("fired at %v, before its time %v", fired, at)
	}
	if late := fired.Sub(at); late > time.Second {
		t.Fatalf("fired %v late", late)
	}
	if msg.Subject() != streams.ExpiryDueSubject("res.1 *") || string(msg.Data()) != `{"reservationId":"res.1 *"}` {
		t.Fatalf("fired %q %q", msg.Subject(), msg.Data())
	}
	if got := msg.Headers().Get("Nats-Scheduler"); got != sched {
		t.Fatalf("Nats-Scheduler = %q, want %q", got, sched)
	}
	if err := msg.DoubleAck(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cons.Next(jetstream.FetchMaxWait(1500 * time.Millisecond)); !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
		t.Fatalf("a second firing: %v", err)
	}
	str, _ := s.JS.Stream(ctx, streams.ScheduleStream)
	info, err := str.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 0 {
		t.Fatalf("%d messages left after the firing was acked, want 0 (schedule purged, fired message consumed)", info.State.Msgs)
	}
}

// TestScheduleCannotRideInEventBatch: an atomic batch is one stream's
// (the server tracks a batch per stream), so a schedule cannot be stored
// in the same batch as the INVENTORY lines it expires. This is why the
// reservation path writes the schedule first (see package expiry).
func TestScheduleCannotRideInEventBatch(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	for _, name := range []string{streams.EventStream, streams.ScheduleStream} {
		str, err := s.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		cfg := str.CachedInfo().Config
		cfg.AllowAtomicPublish = true
		if _, err := s.JS.UpdateStream(ctx, cfg); err != nil {
			t.Fatalf("allow atomic publish on %s: %v", name, err)
		}
	}
	at := time.Now().Add(time.Hour)
	key := sellable.Key{LocationID: "STL", SKU: "batch"}
	sched := nats.NewMsg(streams.ExpiryScheduleSubject("r1", at))
	sched.Header.Set(streams.HeaderSchedule, streams.ScheduleAt(at))
	sched.Header.Set(streams.HeaderScheduleTarget, streams.ExpiryDueSubject("r1"))
	line := nats.NewMsg(streams.EventSubject(sellable.Adjustment, key))
	line.Data = []byte(`{"count":5}`)
	err := publishBatch(t, s.NC, "b1", sched, line)
	if err == nil {
		t.Fatal("a batch spanning the schedule stream and the event stream was accepted")
	}
	t.Logf("server says: %v", err)
	for _, name := range []string{streams.EventStream, streams.ScheduleStream} {
		str, _ := s.JS.Stream(ctx, name)
		info, err := str.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs != 0 {
			t.Fatalf("%s stored %d messages of the refused batch", name, info.State.Msgs)
		}
	}
}

// publishBatch sends msgs as one atomic batch and returns the commit's
// outcome (or the first refusal of an earlier message).
func publishBatch(t *testing.T, nc *nats.Conn, id string, msgs ...*nats.Msg) error {
	t.Helper()
	for i, m := range msgs {
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(msgs)-1 {
			m.Header.Set("Nats-Batch-Commit", "1")
		}
		resp, err := nc.RequestMsg(m, 2*time.Second)
		if err != nil {
			if i < len(msgs)-1 && errors.Is(err, nats.ErrTimeout) {
				continue // intermediate messages may go unanswered
			}
			return err
		}
		if len(resp.Data) > 0 {
			var ack struct {
				Error *jetstream.APIError `json:"error"`
			}
			if err := json.Unmarshal(resp.Data, &ack); err != nil {
				return err
			}
			if ack.Error != nil {
				return ack.Error
			}
		}
	}
	return nil
}

// TestEventStreamRefusesRollup is the hostile publisher of issue 12.3:
// INVENTORY refuses `Nats-Rollup: sub`, so nobody can erase a key's
// history. The schedule stream has rollups on (the server forces it with
// schedules), so a client that may publish there can replace a pending
// schedule: only the service's NATS user may (README, NATS permissions).
func TestEventStreamRefusesRollup(t *testing.T) {
	s := stacktest.Start(t, 0)
	ctx := context.Background()
	key := sellable.Key{LocationID: "STL", SKU: "rollup"}
	for i := 0; i < 3; i++ {
		if _, err := s.JS.Publish(ctx, streams.EventSubject(sellable.Adjustment, key), []byte(`{"count":10}`)); err != nil {
			t.Fatal(err)
		}
	}
	m := nats.NewMsg(streams.EventSubject(sellable.Adjustment, key))
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	m.Data = []byte(`{"count":1}`)
	_, err := s.JS.PublishMsg(ctx, m)
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("rollup onto an event subject: %v, want a refusal", err)
	}
	t.Logf("server says: %v", err)
	str, _ := s.JS.Stream(ctx, streams.EventStream)
	info, err := str.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 3 {
		t.Fatalf("event stream holds %d messages after the rollup attempt, want 3", info.State.Msgs)
	}
	if cfg := info.Config; cfg.AllowRollup || cfg.AllowMsgSchedules {
		t.Fatalf("%s allows rollup %v, schedules %v", streams.EventStream, cfg.AllowRollup, cfg.AllowMsgSchedules)
	}

	// The other side of the trade-off, written down: the schedule stream
	// takes a rollup, which is why its subjects are the service's alone.
	at := time.Now().Add(time.Hour)
	sched := nats.NewMsg(streams.ExpiryScheduleSubject("r1", at))
	sched.Header.Set(streams.HeaderSchedule, streams.ScheduleAt(at))
	sched.Header.Set(streams.HeaderScheduleTarget, streams.ExpiryDueSubject("r1"))
	if _, err := s.JS.PublishMsg(ctx, sched); err != nil {
		t.Fatal(err)
	}
	roll := nats.NewMsg(streams.ExpiryScheduleSubject("r1", at))
	roll.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if _, err := s.JS.PublishMsg(ctx, roll); err != nil {
		t.Fatalf("rollup on the schedule stream: %v (the server forces rollups on with schedules)", err)
	}
}
