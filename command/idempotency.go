package command

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// An idempotency key is scoped to the request, as with Stripe and the
// IETF Idempotency-Key draft: the same key with the same endpoint and
// body answers the original result; with another request (another
// endpoint or another body) it is refused and nothing is stored.
//
// The stream's duplicate window does the deduplication, so the key needs
// no store of its own. A key names one request whatever the endpoint: a
// single command, and command 0 of a batch, are published with the
// Nats-Msg-Id "req:<key>" and the request's fingerprint (endpoint and
// fields) in a header. A duplicate ack points at the stored original:
// equal fingerprints mean the same request, different ones a conflict.
// Commands 1.. of a batch carry the fingerprint in their Nats-Msg-Id
// instead, so only the same batch under the same key ever meets them.

// Endpoints, as they enter a fingerprint.
const (
	scopeBatch = "batch"
)

// scope is the endpoint that records a single command of kind k:
// "adjustment" or "reservation".
func scope(k sellable.Kind) string { return k.String() }

// msgKey is what stands for an idempotency key in the Nats-Msg-Ids: the
// key itself, or with an ID key (WithIDKey) "h:" and the key's HMAC-SHA256
// under it. Anyone allowed to publish an event (a `nats pub` user) can set
// any Nats-Msg-Id; without the secret they cannot name the one a client's
// key will get, and so cannot make the client's command a "duplicate"
// that stores nothing. The HMAC is unpadded base64url: no slash, so
// batchMsgID stays unambiguous.
func (s *Service) msgKey(key string) string {
	if s.idKey == nil {
		return key
	}
	m := hmac.New(sha256.New, s.idKey)
	m.Write([]byte(key))
	return "h:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// requestMsgID is the Nats-Msg-Id of the request a key names: a single
// command, or command 0 of a batch.
func requestMsgID(key string) string { return "req:" + key }

// batchIDPrint is how much of a batch's fingerprint goes into the
// Nats-Msg-Id of its commands 1..: 96 bits tell apart the batches one
// client sends under one key, and every byte of an id is held in memory
// for the whole window.
const batchIDPrint = 16

// batchMsgID is the Nats-Msg-Id of command i > 0 of a batch with
// fingerprint hash: "batch:<key>/<hash[:16]>/<i>". The prefix keeps it
// apart from every request id, so a single command keyed "r/1" never
// meets command 1 of the batch keyed "r"; the fingerprint and the index
// hold no slash, so no two (key, batch, i) share an id.
func batchMsgID(key, hash string, i int) string {
	return scopeBatch + ":" + key + "/" + hash[:batchIDPrint] + "/" + strconv.Itoa(i)
}

// fingerprint identifies a request: its endpoint and every field of every
// command, as decoded (a count sent as "5" or 5 is the same request).
// Each field is length-prefixed so that no two requests share an encoding.
func fingerprint(scope string, cs ...sellable.Command) string {
	h := sha256.New()
	field := func(s string) {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	field("v1")
	field(scope)
	// Who sent it is part of the request: another principal's reuse of
	// a key is a conflict, not a duplicate that would answer it the
	// first one's receipt. A batch has one source; without one (no
	// credentials configured) the fingerprint is what it always was.
	// "source" never follows the scope otherwise (a kind does).
	if len(cs) > 0 && cs[0].Source != "" {
		field("source")
		field(cs[0].Source)
	}
	for _, c := range cs {
		field(c.Kind.String())
		field(c.LocationID)
		field(c.SKU)
		field(strconv.FormatInt(c.Count, 10))
		// Only when given, so that a request from before reasons existed
		// keeps its fingerprint; "note" is never a kind, so the encoding
		// stays unambiguous.
		if c.Reason != "" || c.Reference != "" {
			field("note")
			field(string(c.Reason))
			field(c.Reference)
		}
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// stamp marks msg as made by the request with fingerprint hash, under id.
func stamp(msg *nats.Msg, id, hash string) {
	msg.Header.Set(nats.MsgIdHdr, id)
	msg.Header.Set(streams.HeaderRequestHash, hash)
}

// stampBatch marks the commands of the batch with fingerprint hash under
// key: command 0 as the request the key names, the rest by batchMsgID.
func stampBatch(msgs []*nats.Msg, key, hash string) {
	stamp(msgs[0], requestMsgID(key), hash)
	for i := 1; i < len(msgs); i++ {
		msgs[i].Header.Set(nats.MsgIdHdr, batchMsgID(key, hash, i))
	}
}

// originals reads the stored events that duplicate acks point at, looking
// the stream up at most once per request.
type originals struct {
	js jetstream.JetStream
	st jetstream.Stream
}

// receipt checks that the event ack points at was stored by the request
// with fingerprint hash, and answers that event's receipt. Anything else
// is an ErrIdempotencyConflict: a 2xx must mean the caller's own command
// is stored, and an original that is no longer stored (purged, aged out)
// cannot show that.
func (o *originals) receipt(ctx context.Context, ack *jetstream.PubAck, hash string) (sellable.Receipt, error) {
	if o.st == nil {
		st, err := o.js.Stream(ctx, ack.Stream)
		if err != nil {
			return sellable.Receipt{}, fmt.Errorf("%w: look up %s: %w", sellable.ErrUnavailable, ack.Stream, err)
		}
		o.st = st
	}
	m, err := o.st.GetMsg(ctx, ack.Sequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return sellable.Receipt{}, fmt.Errorf("%w: its event %d is no longer stored", sellable.ErrIdempotencyConflict, ack.Sequence)
	}
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("%w: read event %d: %w", sellable.ErrUnavailable, ack.Sequence, err)
	}
	if m.Header.Get(streams.HeaderRequestHash) != hash {
		return sellable.Receipt{}, fmt.Errorf("%w: event %d", sellable.ErrIdempotencyConflict, ack.Sequence)
	}
	_, p, _, err := streams.ParseStoredSubject(m.Subject)
	if err != nil {
		return sellable.Receipt{}, fmt.Errorf("command: event %d: %w", ack.Sequence, err)
	}
	return sellable.Receipt{Stream: ack.Stream, Seq: ack.Sequence, Partition: p, Duplicate: true}, nil
}
