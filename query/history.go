package query

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// History answers k's events stored before sequence before (0: up to
// the newest), newest first, at most limit of them. It reads them with
// message gets on k's subjects, walking back from before in windows of
// stream sequences that grow while they hold too few of k's events and
// shrink while they hold too many, so a page costs about limit gets
// whether the key is hot or rare. sellable.ErrNotFound means k has no
// events at all.
func (l *EventLog) History(ctx context.Context, k sellable.Key, before uint64, limit int) (sellable.HistoryPage, error) {
	if err := k.Validate(); err != nil {
		return sellable.HistoryPage{}, err
	}
	if limit < 1 || limit > sellable.MaxHistoryLimit {
		return sellable.HistoryPage{}, &sellable.FieldError{Field: "limit", Err: sellable.ErrHistoryLimit}
	}
	s, filter, err := l.filter(ctx, k)
	if err != nil {
		return sellable.HistoryPage{}, err
	}
	last, err := s.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return sellable.HistoryPage{}, fmt.Errorf("query: history of %s: %w", filter, sellable.ErrNotFound)
	}
	if err != nil {
		return sellable.HistoryPage{}, unavailable(filter, err)
	}
	first, err := s.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(filter))
	if err != nil {
		return sellable.HistoryPage{}, unavailable(filter, err) // last exists, so a first does
	}
	hi := last.Sequence + 1 // exclusive
	if before != 0 && before < hi {
		hi = before
	}
	var found []*jetstream.RawStreamMsg // ascending, all in [lo, old hi)
	for w := uint64(4*limit + 16); hi > first.Sequence && len(found) < limit; {
		lo := first.Sequence
		if hi-lo > w {
			lo = hi - w
		}
		msgs, complete, err := window(ctx, s, filter, lo, hi, 4*limit+16)
		if err != nil {
			return sellable.HistoryPage{}, err
		}
		if !complete {
			// More of k's events in [lo, hi) than a page needs: look at
			// the newer half first.
			w = max((hi-lo)/2, 1)
			continue
		}
		found = append(msgs, found...)
		hi = lo
		w *= 4
	}
	if len(found) > limit {
		found = found[len(found)-limit:]
	}
	page := sellable.HistoryPage{Entries: make([]sellable.HistoryEntry, 0, len(found))}
	for _, m := range slices.Backward(found) {
		page.Entries = append(page.Entries, l.entry(ctx, m))
	}
	if len(found) > 0 && found[0].Sequence > first.Sequence {
		page.Before = found[0].Sequence
	}
	return page, nil
}

// window reads k's events in [lo, hi) in order, one get each; complete
// is false when there are more than max of them.
func window(ctx context.Context, s jetstream.Stream, filter string, lo, hi uint64, max int) ([]*jetstream.RawStreamMsg, bool, error) {
	var out []*jetstream.RawStreamMsg
	for seq := lo; seq < hi; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, false, unavailable(filter, err)
		}
		if m.Sequence >= hi {
			break
		}
		if len(out) == max {
			return nil, false, nil
		}
		out = append(out, m)
		seq = m.Sequence + 1
	}
	return out, true, nil
}

// entry decodes one stored event; what cannot be decoded is still shown.
func (l *EventLog) entry(ctx context.Context, m *jetstream.RawStreamMsg) sellable.HistoryEntry {
	e := sellable.HistoryEntry{Seq: m.Sequence, Time: m.Time}
	ev, _, err := l.events.DecodeStored(ctx, m.Subject, m.Header, m.Data)
	switch {
	case err == nil:
		e.Kind, e.Decoded, e.Event = ev.Kind.String(), true, ev
	case errors.Is(err, streams.ErrBadSubject):
		// A kind a newer version publishes: named by its subject.
		e.Kind, _ = streams.StoredKindToken(m.Subject)
	default:
		e.Kind, _ = streams.StoredKindToken(m.Subject)
		if kind, _, _, perr := streams.ParseStoredSubject(m.Subject); perr == nil {
			e.Kind = kind.String()
		}
		e.Err = err
	}
	return e
}

func unavailable(filter string, err error) error {
	return fmt.Errorf("query: history of %s: %w: %w", filter, sellable.ErrUnavailable, err)
}
