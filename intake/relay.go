package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Queue is the relay's queue group: each intake message is stored by one
// of the running mutators.
const Queue = "inventory-intake"

// headerRequestInfo is where the server names the publisher of a message
// that crossed a shared service import.
const headerRequestInfo = "Nats-Request-Info"

// batchHeaderPrefix starts the headers of JetStream's atomic batch
// publish (Nats-Batch-Id, Nats-Batch-Sequence, Nats-Batch-Commit).
const batchHeaderPrefix = "Nats-Batch-"

// publishTimeout bounds one store of a relayed event.
const publishTimeout = 10 * time.Second

// Start subscribes the relay to every intake subject on nc, storing
// through js, until ctx ends or the subscription is drained.
func Start(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, log *slog.Logger) (*nats.Subscription, error) {
	sub, err := nc.QueueSubscribe(streams.IntakeFilter, Queue, func(m *nats.Msg) {
		pctx, cancel := context.WithTimeout(ctx, publishTimeout)
		defer cancel()
		relay(pctx, js, log, m)
	})
	if err != nil {
		return nil, fmt.Errorf("intake: subscribe %s: %w", streams.IntakeFilter, err)
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return sub, nil
}

// Source is the source of an event published by user of account.
func Source(account, user string) string { return "nats:" + account + "/" + user }

// apiError is a JetStream API error as a publish's reply carries it, so
// that JetStream clients report it as they would the stream's own.
type apiError struct {
	Error *jetstream.APIError `json:"error"`
}

func relay(ctx context.Context, js jetstream.JetStream, log *slog.Logger, m *nats.Msg) {
	answer := func(v any) {
		if m.Reply == "" {
			return
		}
		b, _ := json.Marshal(v) // plain structs always marshal
		if err := m.Respond(b); err != nil {
			log.Warn("intake: reply", "subject", m.Subject, "err", err)
		}
	}
	refuse := func(code int, desc string) {
		log.Warn("intake: refused", "subject", m.Subject, "reason", desc)
		answer(apiError{&jetstream.APIError{Code: code, Description: desc}})
	}
	subject, ok := streams.EventSubjectOfIntake(m.Subject)
	if !ok {
		refuse(400, "intake: not an event subject a person may publish: "+m.Subject)
		return
	}
	var ci server.ClientInfo
	if err := json.Unmarshal([]byte(m.Header.Get(headerRequestInfo)), &ci); err != nil || ci.Account == "" || ci.User == "" {
		refuse(403, "intake: the server did not name the publisher (Nats-Request-Info); publish through the publisher account's import")
		return
	}
	for k := range m.Header {
		// An atomic batch is answered at its commit, not message by
		// message as the relay publishes (the stream's answer to a
		// batch's first message is no PubAck): events published by hand
		// go one at a time, with an answer the publisher can read.
		if len(k) >= len(batchHeaderPrefix) && strings.EqualFold(k[:len(batchHeaderPrefix)], batchHeaderPrefix) {
			refuse(400, "intake: events published on NATS go one at a time, not in an atomic batch ("+k+")")
			return
		}
	}
	source := Source(ci.Account, ci.User)
	out := nats.NewMsg(subject)
	for k, v := range m.Header {
		// Header names are matched exactly, but a reader (or a person
		// reading a dead letter) might not: no spelling of these survives.
		if !strings.EqualFold(k, headerRequestInfo) && !strings.EqualFold(k, streams.HeaderSource) {
			out.Header[k] = v
		}
	}
	out.Header.Set(streams.HeaderSource, source)
	out.Data = m.Data
	if ct := m.Header.Get(streams.HeaderContentType); ct == "" || ct == wire.ContentTypeJSON {
		// A body that is not a JSON object is stored as it came, and dead
		// lettered with its header naming the publisher.
		var body map[string]json.RawMessage
		if json.Unmarshal(m.Data, &body) == nil && body != nil {
			// encoding/json matches field names without regard to case
			// (Unicode folding included), and the last match wins: drop
			// every key the codec could read as the source.
			for k := range body {
				if strings.EqualFold(k, "source") {
					delete(body, k)
				}
			}
			body["source"], _ = json.Marshal(source) // a string always marshals
			out.Data, _ = json.Marshal(body)         // raw messages that parsed always marshal
		}
	} else {
		refuse(415, "intake: events published on NATS are JSON (Content-Type "+wire.ContentTypeJSON+" or none), not "+ct)
		return
	}
	ack, err := js.PublishMsg(ctx, out)
	var ae *jetstream.APIError
	switch {
	case errors.As(err, &ae):
		answer(apiError{ae})
	case err != nil:
		refuse(503, "intake: storing the event: "+err.Error())
	default:
		answer(ack)
	}
}
