package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/streams"
)

// Errors of the dead letter commands.
var (
	// ErrTruncated: the dead letter was cut to fit and is not the
	// original message, so replaying it would store something else.
	ErrTruncated = errors.New("ctl: dead letter was truncated; it is not the original message")
	// ErrNotDeadLetter: the message lacks the headers a dead letter has.
	ErrNotDeadLetter = errors.New("ctl: not a dead letter")
)

// DeadLetter is a message of the dead letter stream, with what its
// headers say.
type DeadLetter struct {
	Seq       uint64
	Time      time.Time
	Subject   string // the dead letter's own: inventory.deadletter.<p>
	Error     string
	OrigSubj  string
	OrigSeq   string
	Truncated string
	OrigSize  string
	Header    nats.Header
	Data      []byte
}

func deadLetterOf(m *jetstream.RawStreamMsg) DeadLetter {
	h := m.Header
	return DeadLetter{
		Seq: m.Sequence, Time: m.Time, Subject: m.Subject,
		Error: h.Get(streams.HeaderError), OrigSubj: h.Get(streams.HeaderOrigSubject),
		OrigSeq: h.Get(streams.HeaderOrigSeq), Truncated: h.Get(streams.HeaderTruncated),
		OrigSize: h.Get(streams.HeaderOrigSize), Header: h, Data: m.Data,
	}
}

// ListDeadLetters returns up to limit dead letters from sequence from on
// (0: the first kept).
func ListDeadLetters(ctx context.Context, js jetstream.JetStream, from uint64, limit int) ([]DeadLetter, error) {
	s, err := js.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		return nil, fmt.Errorf("ctl: dead letter stream: %w", err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	seq := max(from, info.State.FirstSeq)
	var out []DeadLetter
	for len(out) < limit && seq <= info.State.LastSeq {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject("inventory.deadletter.>"))
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			}
			return nil, err
		}
		out = append(out, deadLetterOf(m))
		seq = m.Sequence + 1
	}
	return out, nil
}

// GetDeadLetter reads the dead letter at seq.
func GetDeadLetter(ctx context.Context, js jetstream.JetStream, seq uint64) (DeadLetter, error) {
	s, err := js.Stream(ctx, streams.DeadLetterStream)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("ctl: dead letter stream: %w", err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("ctl: dead letter %d: %w", seq, err)
	}
	return deadLetterOf(m), nil
}

// ListLine is how dlq list prints a dead letter.
func (d DeadLetter) ListLine() string {
	line := fmt.Sprintf("%d\t%s\t%s\t%s", d.Seq, d.Time.UTC().Format(time.RFC3339), d.OrigSubj, oneLine(d.Error, 120))
	if d.Truncated != "" {
		line += "\t(truncated: " + d.Truncated + ")"
	}
	return line
}

// Print writes the dead letter's headers and body for dlq show.
func (d DeadLetter) Print(out io.Writer) {
	fmt.Fprintf(out, "sequence: %d\ntime:     %s\nsubject:  %s\n", d.Seq, d.Time.UTC().Format(time.RFC3339Nano), d.Subject)
	keys := make([]string, 0, len(d.Header))
	for k := range d.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range d.Header[k] {
			fmt.Fprintf(out, "%s: %s\n", k, v)
		}
	}
	fmt.Fprintf(out, "body (%d bytes):\n%q\n", len(d.Data), d.Data)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// ReplayMsgID is the Nats-Msg-Id of the replay of the dead letter at
// seq: the same for every replay of it, so that the event stream's
// duplicate window stores it once however often it is run.
func ReplayMsgID(seq uint64) string {
	return "dlq-replay-" + strconv.FormatUint(seq, 10)
}

// ReplayMsg is the message that replays d: its body and application
// headers on the subject its original was published to. The dead
// letter's own headers (reason, original subject and sequence, the
// original's NATS headers kept under Inventory-Original-) are left out.
func ReplayMsg(d DeadLetter) (*nats.Msg, error) {
	if d.Truncated != "" || d.OrigSize != "" {
		return nil, fmt.Errorf("%w (cut: %s); publish a corrected message yourself", ErrTruncated, d.Truncated)
	}
	subj, err := publishedSubject(d.OrigSubj)
	if err != nil {
		return nil, err
	}
	m := nats.NewMsg(subj)
	m.Data = d.Data
	for k, vs := range d.Header {
		if ours(k) {
			continue
		}
		m.Header[k] = vs
	}
	m.Header.Set(nats.MsgIdHdr, ReplayMsgID(d.Seq))
	return m, nil
}

// ours: a header the dead letter has that its original did not, or a
// NATS header that must not steer the replay's publish.
func ours(k string) bool {
	return strings.EqualFold(k, streams.HeaderError) ||
		strings.EqualFold(k, streams.HeaderTruncated) ||
		len(k) >= len(streams.HeaderOrigPrefix) && strings.EqualFold(k[:len(streams.HeaderOrigPrefix)], streams.HeaderOrigPrefix) ||
		len(k) >= 5 && strings.EqualFold(k[:5], "Nats-")
}

// publishedSubject undoes the event stream's partition transform: the
// stored inventory.<kind>.<p>.<loc>.<sku> was published as
// inventory.<kind>.<loc>.<sku>, which the stream stores again in the
// same partition. The tokens are kept as they are, not decoded, since a
// dead letter may be there precisely because one is malformed.
func publishedSubject(stored string) (string, error) {
	toks := strings.Split(stored, ".")
	if len(toks) != 5 || toks[0] != "inventory" {
		return "", fmt.Errorf("%w: original subject %q is not a stored event subject", ErrNotDeadLetter, stored)
	}
	if _, err := strconv.Atoi(toks[2]); err != nil {
		return "", fmt.Errorf("%w: original subject %q has no partition", ErrNotDeadLetter, stored)
	}
	return strings.Join([]string{toks[0], toks[1], toks[3], toks[4]}, "."), nil
}

// Replay republishes the dead letter at seq to its original subject (see
// ReplayMsg) and returns the event stream's acknowledgement; its
// Duplicate is true when this dead letter was already replayed within
// the duplicate window.
func Replay(ctx context.Context, js jetstream.JetStream, seq uint64) (*jetstream.PubAck, error) {
	d, err := GetDeadLetter(ctx, js, seq)
	if err != nil {
		return nil, err
	}
	m, err := ReplayMsg(d)
	if err != nil {
		return nil, err
	}
	ack, err := js.PublishMsg(ctx, m, jetstream.WithExpectStream(streams.EventStream))
	if err != nil {
		return nil, fmt.Errorf("ctl: replay dead letter %d to %s: %w", seq, m.Subject, err)
	}
	return ack, nil
}
