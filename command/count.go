package command

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// PositionReader reads a position from the view.
type PositionReader interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// ViewWait bounds how long a decision waits for the view to reflect the
// key's last event before it answers ErrUnavailable.
const ViewWait = 2 * time.Second

// Counts decides stock counts on the log: it reads the key's last event
// sequence, waits for the view to reflect it, and appends the adjustment
// that gets on-hand to the counted value with
// Nats-Expected-Last-Subject-Sequence over the key's whole history, so an
// event that lands in between makes the stream refuse the adjustment and
// the count is decided again on the new on-hand.
type Counts struct {
	svc  *Service
	view PositionReader

	mu     sync.Mutex
	events jetstream.Stream // looked up on first use
}

// NewCounts decides counts with svc's codec over view.
func NewCounts(svc *Service, view PositionReader) *Counts {
	return &Counts{svc: svc, view: view}
}

// stream is the event stream's handle, looked up once it can be.
func (s *Counts) stream(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events != nil {
		return s.events, nil
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	st, err := s.svc.js.Stream(ctx, streams.EventStream)
	if err != nil {
		return nil, fmt.Errorf("%w: look up %s: %w", sellable.ErrUnavailable, streams.EventStream, err)
	}
	s.events = st
	return st, nil
}

// maxCountAttempts bounds the decisions of one count under contention:
// each failed attempt means another event of the key was stored, so the
// key is moving that fast; the client then hears 503 and retries.
const maxCountAttempts = 100

// Count sets c.Key's on-hand to c.OnHand.
func (s *Counts) Count(ctx context.Context, c sellable.StockCount) (sellable.CountResult, error) {
	if err := c.Validate(); err != nil {
		return sellable.CountResult{}, err
	}
	p := streams.Partition(c.Key, s.svc.partitions)
	filter := streams.KeyHistoryFilter(p, c.Key)
	for attempt := 0; attempt < maxCountAttempts; attempt++ {
		res, err := s.decide(ctx, c, p, filter)
		if errors.Is(err, errKeyMoved) {
			continue
		}
		return res, err
	}
	return sellable.CountResult{}, fmt.Errorf("%w: key moved %d times while counting", sellable.ErrUnavailable, maxCountAttempts)
}

var errKeyMoved = errors.New("command: key moved since it was read")

func (s *Counts) decide(ctx context.Context, c sellable.StockCount, p int, filter string) (sellable.CountResult, error) {
	st, err := s.stream(ctx)
	if err != nil {
		return sellable.CountResult{}, err
	}
	last, err := lastSeq(ctx, st, filter)
	if err != nil {
		return sellable.CountResult{}, err
	}
	pos, err := waitView(ctx, s.view, c.Key, last)
	if err != nil {
		return sellable.CountResult{}, err
	}
	onHand := pos.OnHand
	if c.HasExpected && c.Expected != onHand {
		return sellable.CountResult{}, &sellable.OnHandMismatch{Expected: c.Expected, Current: onHand}
	}
	res := sellable.CountResult{Previous: onHand, Adjustment: c.OnHand - onHand,
		Receipt: sellable.Receipt{Stream: streams.EventStream, Seq: last, Partition: p}}
	if res.Adjustment == 0 {
		return res, nil
	}
	if res.Adjustment > sellable.MaxCount || res.Adjustment < -sellable.MaxCount {
		return sellable.CountResult{}, &sellable.FieldError{Field: "onHand", Err: sellable.ErrCountTooFar}
	}
	msg, _, err := s.svc.message(sellable.Command{Kind: sellable.Adjustment, LocationID: c.Key.LocationID, SKU: c.Key.SKU, Count: res.Adjustment})
	if err != nil {
		return sellable.CountResult{}, err
	}
	expectLast(msg, last, filter)
	pctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	ack, err := s.svc.js.PublishMsg(pctx, msg)
	if isWrongLast(err) {
		return sellable.CountResult{}, errKeyMoved
	}
	if err != nil {
		return sellable.CountResult{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, err)
	}
	res.Receipt = s.svc.receipt(ack, c.Key)
	return res, nil
}

// expectLast makes the stream refuse msg unless the last event stored on
// filter (a key's whole history) is seq.
func expectLast(msg *nats.Msg, seq uint64, filter string) {
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, fmt.Sprint(seq))
	msg.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, filter)
}

// isWrongLast reports the stream's refusal of an expected last sequence:
// 10071, or 10164 on a replicated stream.
func isWrongLast(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// lastSeq is the sequence of the last event stored on filter, 0 if none.
func lastSeq(ctx context.Context, st jetstream.Stream, filter string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	m, err := st.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: last event of %s: %w", sellable.ErrUnavailable, filter, err)
	}
	return m.Sequence, nil
}

// waitView reads k's position once the view reflects seq (a key with no
// event yet is the zero position), polling up to ViewWait.
func waitView(ctx context.Context, view PositionReader, k sellable.Key, seq uint64) (sellable.Position, error) {
	if seq == 0 {
		return sellable.Position{LocationID: k.LocationID, SKU: k.SKU}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, ViewWait)
	defer cancel()
	wait := time.Millisecond
	for {
		pos, err := view.Get(ctx, k.LocationID, k.SKU)
		if err == nil && pos.Seq >= seq {
			return pos, nil
		}
		if err != nil && !errors.Is(err, sellable.ErrNotFound) && ctx.Err() == nil {
			return sellable.Position{}, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return sellable.Position{}, fmt.Errorf("%w: view of %s/%s did not reach event %d within %v", sellable.ErrUnavailable, k.LocationID, k.SKU, seq, ViewWait)
		case <-t.C:
		}
		wait = min(2*wait, 20*time.Millisecond)
	}
}
