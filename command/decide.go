package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// A decision on the log (DESIGN.md, "Decisions on the log") is taken in
// four steps, repeated until it holds:
//
//  1. read, for each key, the sequence of the last event of its whole
//     history (streams.KeyHistoryFilter: every kind, in its partition);
//  2. wait, bounded by DecideConfig.ViewWait, until the view's position
//     of the key reflects that sequence; the position's own Seq is then
//     the key's state "as of" a sequence;
//  3. hand the positions to a DecideFunc, which says what to store;
//  4. publish all of it as ONE atomic batch, each event on a read key
//     carrying Nats-Expected-Last-Subject-Sequence (the position's Seq)
//     and Nats-Expected-Last-Subject-Sequence-Subject (the key's history
//     filter). If any key moved in between, the server stores nothing
//     (error 10071) and we start again at 1.
//
// No lock, no leader, no database: the stream's own ordering per subject
// filter is the concurrency control. The view may only lag, never lead,
// so step 2 makes a decision see every event its expectation covers.

// View is the read side a decision waits for: the position of a key as
// the calculator last wrote it, sellable.ErrNotFound before any event.
type View interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// DecideConfig bounds a decision.
type DecideConfig struct {
	// ViewWait bounds the wait for the view to reflect a key's last
	// event; past it the decision fails with ErrViewBehind (a 503).
	ViewWait time.Duration
	// Attempts bounds how often a decision is taken again because a key
	// moved between the read and the publish; past it, ErrContention.
	Attempts int
}

// DefaultDecideConfig waits up to two seconds for the view and tries 50
// times: 32 clients racing on one key each win within a few attempts.
func DefaultDecideConfig() DecideConfig {
	return DecideConfig{ViewWait: 2 * time.Second, Attempts: 50}
}

var (
	// ErrViewBehind means the view did not reflect a key's last event in
	// time (calculator down or far behind); it wraps ErrUnavailable.
	ErrViewBehind = fmt.Errorf("%w: view did not catch up with the log", sellable.ErrUnavailable)
	// ErrContention means every attempt met a concurrent event on one of
	// the keys; it wraps ErrUnavailable (retry later).
	ErrContention = fmt.Errorf("%w: keys kept changing under the decision", sellable.ErrUnavailable)
	// errWrongLastSeq is the server refusing an expectation.
	errWrongLastSeq = errors.New("wrong last sequence")
	// errBatchBusy is the server refusing a batch it stored nothing of
	// for want of room (too many batches in flight on the stream, which
	// drops the staged messages and leaves the commit "incomplete").
	errBatchBusy = errors.New("atomic batch not accepted now")
)

// Server error codes that mean "nothing stored, try again": too many
// atomic batches in flight (JSAtomicPublishTooManyInflight), and an
// incomplete batch (JSAtomicPublishIncompleteBatchErr), which is what the
// commit hears when the server dropped the staged messages for that
// reason, or lost them in a reconnect.
const (
	errCodeTooManyInflight = 10210
	errCodeIncomplete      = 10176
)

// errCodeWrongLastSeq is JetStream's JSStreamWrongLastSequenceErrF: an
// expected last (subject) sequence that is not the stream's. Checked on
// nats-server 2.15.2 for atomic batches (TestBatchWithStaleExpectation
// StoresNothing).
const errCodeWrongLastSeq = 10071

// errCodeWrongLastSeqConstant is JSStreamWrongLastSequenceConstantErr,
// the same refusal without the sequence found.
const errCodeWrongLastSeqConstant = 10164

// Record is a message of a decision that is not an event on a key: a
// cart reservation's own record. It is stored in the same batch, with
// Nats-Expected-Last-Subject-Sequence ExpectLastSeq on its Subject (0:
// the subject must have no message yet).
type Record struct {
	Subject       string
	Data          []byte
	Header        nats.Header
	ExpectLastSeq uint64
	// Unchecked stores the record without an expectation (a message
	// schedule riding in the batch, say); ExpectLastSeq is then unused.
	Unchecked bool
}

// Decision is what a DecideFunc wants stored. Events on keys the
// decision read carry that key's expectation; events on other keys
// (a release needs none: it cannot oversell) carry none. An empty
// Decision stores nothing and ends the decision.
type Decision struct {
	Events  []sellable.Event
	Records []Record
}

func (d Decision) empty() bool { return len(d.Events) == 0 && len(d.Records) == 0 }

// DecideFunc decides on positions, one per key in the order the keys
// were given, each as of its Seq. It may do I/O (read a record whose
// sequence it expects) and may be called again if the batch fails on a
// concurrent event, so it must not have effects of its own. An error
// ends the decision with that error.
type DecideFunc func(ctx context.Context, positions []sellable.Position) (Decision, error)

// Stored says what a decision stored.
type Stored struct {
	Stream string
	// Seqs are the stream sequences of the decision's messages: its
	// events, then its records, in the order of the Decision.
	Seqs []uint64
	// Attempts is how many times the decision was taken (1: no retry).
	Attempts int
}

// Decider takes decisions on the event log.
type Decider struct {
	js         jetstream.JetStream
	codec      wire.EventCodec
	decoders   *wire.Codecs
	view       View
	partitions int
	cfg        DecideConfig

	mu sync.Mutex
	st jetstream.Stream // the event stream, once looked up

	locks keyLocks // this process's decisions take turns per key
}

// NewDecider decides over view for a stream of the given partitions,
// encoding events with codec and telling dead letters (what the
// calculator cannot apply) by decoding with decoders, as it does.
func NewDecider(js jetstream.JetStream, codec wire.EventCodec, decoders *wire.Codecs, view View, partitions int, cfg DecideConfig) *Decider {
	def := DefaultDecideConfig()
	if cfg.ViewWait <= 0 {
		cfg.ViewWait = def.ViewWait
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = def.Attempts
	}
	return &Decider{js: js, codec: codec, decoders: decoders, view: view, partitions: partitions, cfg: cfg}
}

// Decide reads keys, lets fn decide, and stores its decision atomically,
// again and again until no key moved in between (see the top of this
// file). Keys must be distinct. With an empty decision it stores nothing
// and answers a Stored without Seqs.
func (d *Decider) Decide(ctx context.Context, keys []sellable.Key, fn DecideFunc) (Stored, error) {
	unlock, err := d.locks.lock(ctx, keys)
	if err != nil {
		return Stored{}, err
	}
	defer unlock()
	for attempt := 1; ; attempt++ {
		positions, err := d.read(ctx, keys)
		if err != nil {
			return Stored{}, err
		}
		dec, err := fn(ctx, positions)
		if err != nil {
			return Stored{}, err
		}
		if dec.empty() {
			return Stored{Attempts: attempt}, nil
		}
		msgs, err := d.messages(keys, positions, dec)
		if err != nil {
			return Stored{}, err
		}
		st, err := d.publish(ctx, msgs)
		if err == nil {
			st.Attempts = attempt
			return st, nil
		}
		if !errors.Is(err, errWrongLastSeq) && !errors.Is(err, errBatchBusy) {
			return Stored{}, err
		}
		metrics.DecisionRetries.Inc()
		if attempt >= d.cfg.Attempts {
			return Stored{}, fmt.Errorf("%w: %d attempts", ErrContention, attempt)
		}
		// A little jitter keeps racing deciders from meeting again in
		// lockstep; it grows with the attempts, up to 10 ms.
		pause := time.Duration(rand.Int64N(int64(min(attempt, 10))*int64(time.Millisecond) + 1))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return Stored{}, fmt.Errorf("%w: %w", sellable.ErrUnavailable, ctx.Err())
		}
	}
}

// readers bounds the keys read at once.
const readers = 16

// read answers each key's position as of at least its last event.
func (d *Decider) read(ctx context.Context, keys []sellable.Key) ([]sellable.Position, error) {
	st, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]sellable.Position, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readers)
	for i, k := range keys {
		g.Go(func() error {
			filter := streams.KeyHistoryFilter(streams.Partition(k, d.partitions), k)
			last, err := lastSeq(gctx, st, filter)
			if err != nil {
				return err
			}
			out[i], err = d.await(gctx, st, k, filter, last)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// stream is the event stream's handle, looked up once: its reads only
// need its name, and a lookup is a round trip.
func (d *Decider) stream(ctx context.Context) (jetstream.Stream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.st != nil {
		return d.st, nil
	}
	st, err := d.js.Stream(ctx, streams.EventStream)
	if err != nil {
		return nil, fmt.Errorf("%w: look up %s: %w", sellable.ErrUnavailable, streams.EventStream, err)
	}
	d.st = st
	return st, nil
}

// lastSeq is the sequence of the last message on filter, 0 if none.
func lastSeq(ctx context.Context, st jetstream.Stream, filter string) (uint64, error) {
	m, err := st.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("%w: last of %s: %w", sellable.ErrUnavailable, filter, err)
	}
	return m.Sequence, nil
}

// await polls the view until k's position reflects seq. Its Seq may be
// beyond seq (an event came in since): it is still a consistent state
// of the key as of its own Seq, which is what the expectation says.
//
// A message on the key's subjects that the calculator cannot apply (a
// hand-published body it dead-letters) never shows in the view, so a key
// whose last messages are such would make every decision wait in vain.
// Once half the wait is spent, await looks at what the view lacks: if
// none of it decodes, the position is the key's state as of seq too, and
// it answers it with Seq set to seq (the expectation).
func (d *Decider) await(ctx context.Context, st jetstream.Stream, k sellable.Key, filter string, seq uint64) (sellable.Position, error) {
	start := time.Now()
	deadline := start.Add(d.cfg.ViewWait)
	checked := false
	pause := time.Millisecond
	for {
		p, err := d.view.Get(ctx, k.LocationID, k.SKU)
		switch {
		case errors.Is(err, sellable.ErrNotFound):
			p = sellable.Position{LocationID: k.LocationID, SKU: k.SKU}
		case err != nil:
			return p, err
		}
		if p.Seq >= seq {
			return p, nil
		}
		if !checked && d.decoders != nil && time.Since(start) > d.cfg.ViewWait/2 {
			checked = true
			dead, err := d.onlyDeadLetters(ctx, st, filter, p.Seq+1, seq)
			if err != nil {
				return p, err
			}
			if dead {
				p.Seq = seq
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			return p, fmt.Errorf("%w: %s at %d, its last event is %d", ErrViewBehind, streams.KeyToken(k), p.Seq, seq)
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return p, fmt.Errorf("%w: %w", sellable.ErrUnavailable, ctx.Err())
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// maxDeadLetterScan bounds the messages onlyDeadLetters reads.
const maxDeadLetterScan = 64

// onlyDeadLetters reports whether every message on filter from seq from
// through to fails to decode as an event (and so is dead-lettered, not
// applied, by the calculator). A registry that cannot be asked, or more
// than maxDeadLetterScan messages, answer false: wait for the view.
func (d *Decider) onlyDeadLetters(ctx context.Context, st jetstream.Stream, filter string, from, to uint64) (bool, error) {
	for n := 0; from <= to; n++ {
		if n == maxDeadLetterScan {
			return false, nil
		}
		m, err := st.GetMsg(ctx, from, jetstream.WithGetMsgSubject(filter))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("%w: read %s from %d: %w", sellable.ErrUnavailable, filter, from, err)
		}
		if m.Sequence > to {
			return true, nil
		}
		if _, _, err := d.decoders.DecodeStored(ctx, m.Subject, m.Header, m.Data); err == nil || errors.Is(err, wire.ErrRegistry) {
			return false, nil
		}
		from = m.Sequence + 1
	}
	return true, nil
}

// messages encodes a decision: its events, each on its key's subject
// with the key's expectation when the decision read the key, then its
// records with theirs.
func (d *Decider) messages(keys []sellable.Key, positions []sellable.Position, dec Decision) ([]*nats.Msg, error) {
	read := make(map[sellable.Key]uint64, len(keys))
	for i, k := range keys {
		read[k] = positions[i].Seq
	}
	msgs := make([]*nats.Msg, 0, len(dec.Events)+len(dec.Records))
	for _, e := range dec.Events {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("command: decided event: %w", err)
		}
		data, err := d.codec.EncodeEvent(e)
		if err != nil {
			return nil, fmt.Errorf("command: encode: %w", err)
		}
		msg := nats.NewMsg(streams.EventSubject(e.Kind, e.Key))
		msg.Data = data
		msg.Header.Set(streams.HeaderContentType, d.codec.ContentType())
		if seq, ok := read[e.Key]; ok {
			expect(msg, seq, streams.KeyHistoryFilter(streams.Partition(e.Key, d.partitions), e.Key))
		}
		msgs = append(msgs, msg)
	}
	for _, r := range dec.Records {
		msg := nats.NewMsg(r.Subject)
		for h, vs := range r.Header {
			msg.Header[h] = vs
		}
		msg.Data = r.Data
		if !r.Unchecked {
			expect(msg, r.ExpectLastSeq, r.Subject)
		}
		msgs = append(msgs, msg)
	}
	return msgs, nil
}

// expect makes msg storable only if the last message on filter is seq.
func expect(msg *nats.Msg, seq uint64, filter string) {
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
	msg.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, filter)
}

// Atomic batch headers (ADR-50), which nats.go v1.55 has no API for.
const (
	headerBatchID     = "Nats-Batch-Id"
	headerBatchSeq    = "Nats-Batch-Sequence"
	headerBatchCommit = "Nats-Batch-Commit"
)

// batchAck is the server's answer to a batch's commit.
type batchAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Batch  string `json:"batch"`
	Count  int    `json:"count"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// publish stores msgs as one atomic batch: all of them, in order, or
// none. The messages before the commit go without a reply (the server
// stages them); the commit's reply says what became of the whole batch.
func (d *Decider) publish(ctx context.Context, msgs []*nats.Msg) (Stored, error) {
	nc := d.js.Conn()
	id := nuid.Next()
	for i, msg := range msgs {
		msg.Header.Set(headerBatchID, id)
		msg.Header.Set(headerBatchSeq, strconv.Itoa(i+1))
	}
	last := msgs[len(msgs)-1]
	last.Header.Set(headerBatchCommit, "1")
	for _, msg := range msgs[:len(msgs)-1] {
		if err := nc.PublishMsg(msg); err != nil {
			return Stored{}, fmt.Errorf("%w: stage batch: %w", sellable.ErrUnavailable, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, PublishTimeout)
	defer cancel()
	resp, err := nc.RequestMsgWithContext(ctx, last)
	if err != nil {
		return Stored{}, fmt.Errorf("%w: commit batch: %w", sellable.ErrUnavailable, err)
	}
	var ack batchAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return Stored{}, fmt.Errorf("%w: batch ack %q: %w", sellable.ErrUnavailable, resp.Data, err)
	}
	if ack.Error != nil {
		switch ack.Error.ErrCode {
		// 10164 (JSStreamWrongLastSequenceConstantErr) is the same
		// refusal when the key's subject is in flight in another batch or
		// on a replicated stream (server/jetstream_batching.go, 2.15.2).
		case errCodeWrongLastSeq, errCodeWrongLastSeqConstant:
			return Stored{}, fmt.Errorf("%w: %s", errWrongLastSeq, ack.Error.Description)
		case errCodeTooManyInflight, errCodeIncomplete:
			return Stored{}, fmt.Errorf("%w: %s (%d)", errBatchBusy, ack.Error.Description, ack.Error.ErrCode)
		}
		return Stored{}, fmt.Errorf("%w: batch refused: %s (%d)", sellable.ErrUnavailable, ack.Error.Description, ack.Error.ErrCode)
	}
	if ack.Count != len(msgs) || ack.Seq < uint64(len(msgs)) {
		return Stored{}, fmt.Errorf("%w: batch of %d acknowledged as %d ending at %d", sellable.ErrUnavailable, len(msgs), ack.Count, ack.Seq)
	}
	// An atomic batch is stored contiguously: its last message is at
	// ack.Seq, the first at ack.Seq - count + 1.
	seqs := make([]uint64, len(msgs))
	for i := range msgs {
		seqs[i] = ack.Seq - uint64(len(msgs)-1-i)
	}
	return Stored{Stream: ack.Stream, Seqs: seqs}, nil
}
