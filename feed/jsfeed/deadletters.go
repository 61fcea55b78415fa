package jsfeed

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/feed"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// MaxDeadLetters is the most dead letters one read answers.
const MaxDeadLetters = 100

// DeadLetters reads the dead-letter stream back.
type DeadLetters struct {
	js jetstream.JetStream
}

// NewDeadLetters reads the dead letters stored in js.
func NewDeadLetters(js jetstream.JetStream) *DeadLetters { return &DeadLetters{js: js} }

// List answers up to limit dead letters stored before sequence before (0:
// the newest), newest first, and the sequence to pass as before for the
// next page (0 after the last). It reads them one by one by sequence:
// operators look at a few, and the stream keeps them a week at most.
func (d *DeadLetters) List(ctx context.Context, before uint64, limit int) ([]feed.DeadLetter, uint64, error) {
	if limit < 1 || limit > MaxDeadLetters {
		return nil, 0, &sellable.FieldError{Field: "limit", Err: fmt.Errorf("must be in 1..%d", MaxDeadLetters)}
	}
	s, err := d.js.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		return nil, 0, fmt.Errorf("jsfeed: dead letters: %w: %w", sellable.ErrUnavailable, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("jsfeed: dead letters: %w: %w", sellable.ErrUnavailable, err)
	}
	first, last := info.State.FirstSeq, info.State.LastSeq
	if before == 0 || before > last+1 {
		before = last + 1
	}
	var out []feed.DeadLetter
	seq := before
	for ; seq > first && seq > 1 && len(out) < limit; seq-- {
		m, err := s.GetMsg(ctx, seq-1)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // aged out or deleted
		}
		if err != nil {
			return nil, 0, fmt.Errorf("jsfeed: dead letter %d: %w: %w", seq-1, sellable.ErrUnavailable, err)
		}
		out = append(out, deadLetter(m))
	}
	next := uint64(0)
	if seq > first && seq > 1 {
		next = seq
	}
	return out, next, nil
}

func deadLetter(m *jetstream.RawStreamMsg) feed.DeadLetter {
	dl := feed.DeadLetter{
		Seq: m.Sequence, StoredAt: m.Time, Body: m.Data,
		Reason:    m.Header.Get(streams.HeaderError),
		Subject:   m.Header.Get(streams.HeaderOrigSubject),
		Truncated: m.Header.Get(streams.HeaderTruncated),
		Headers:   map[string][]string{},
	}
	dl.OrigSeq, _ = strconv.ParseUint(m.Header.Get(streams.HeaderOrigSeq), 10, 64)
	dl.Partition, _ = streams.DeadLetterPartition(m.Subject)
	for k, v := range m.Header {
		switch k {
		case streams.HeaderError, streams.HeaderOrigSubject, streams.HeaderOrigSeq, streams.HeaderTruncated:
			continue
		}
		dl.Headers[k] = v
	}
	return dl
}
