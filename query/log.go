package query

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// EventLog reads a key's events straight from the event stream, by
// message gets on the key's subjects (streams.KeyFilter): no copy of the
// events is kept anywhere.
type EventLog struct {
	js     jetstream.JetStream
	events *wire.Codecs

	mu         sync.Mutex
	stream     jetstream.Stream
	partitions int
}

// NewEventLog reads the event stream through js, decoding events with
// events (nil: JSON only). Nothing is asked before the first read, so a
// query service can start before the stream exists.
func NewEventLog(js jetstream.JetStream, events *wire.Codecs) *EventLog {
	if events == nil {
		events = wire.NewCodecs()
	}
	return &EventLog{js: js, events: events}
}

// open looks the stream and its partition count up once; a failure is
// retried on the next call.
func (l *EventLog) open(ctx context.Context) (jetstream.Stream, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stream != nil {
		return l.stream, l.partitions, nil
	}
	n, err := streams.Partitions(ctx, l.js)
	if err != nil {
		return nil, 0, fmt.Errorf("query: %w: %w", sellable.ErrUnavailable, err)
	}
	s, err := l.js.Stream(ctx, streams.EventStream)
	if err != nil {
		return nil, 0, fmt.Errorf("query: %w: %w", sellable.ErrUnavailable, err)
	}
	l.stream, l.partitions = s, n
	return s, n, nil
}

// filter is the subject filter of k's events.
func (l *EventLog) filter(ctx context.Context, k sellable.Key) (jetstream.Stream, string, error) {
	s, n, err := l.open(ctx)
	if err != nil {
		return nil, "", err
	}
	return s, streams.KeyHistoryFilter(streams.Partition(k, n), k), nil
}

// LastSeq is the sequence of k's newest stored event, 0 when it has none.
func (l *EventLog) LastSeq(ctx context.Context, k sellable.Key) (uint64, error) {
	s, filter, err := l.filter(ctx, k)
	if err != nil {
		return 0, err
	}
	m, err := s.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("query: last event of %s: %w: %w", filter, sellable.ErrUnavailable, err)
	}
	return m.Sequence, nil
}
