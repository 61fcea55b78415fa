package calculator

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/streams"
)

// Bounds of a dead letter. A message that cannot be published would stop
// its partition for good (the publish fails, the batch is retried, fails
// again), so a dead letter must fit in one message whatever the original
// looked like: a body close to the server's max payload, or a huge value
// quoted in the reason.
const (
	// maxDeadValue bounds each copied header value.
	maxDeadValue = 1024
	// maxDeadReason bounds the reason, on the dead letter and in the log.
	maxDeadReason = 4096
	// maxDeadMargin is held back below the connection's max payload, for
	// servers of a cluster whose limit is slightly lower than the one we
	// were told.
	maxDeadMargin = 4096
)

// reservedDeadHeaders are ours on a dead letter; a publisher's headers of
// these names are not copied, so they cannot pass for ours.
var reservedDeadHeaders = []string{
	streams.HeaderError, streams.HeaderOrigSubject, streams.HeaderOrigSeq,
	streams.HeaderTruncated, streams.HeaderOrigSize,
}

// deadLetterMsg builds the dead letter of the message stored at seq on
// subject with headers h and body data, for partition p, so that headers
// and body together fit in maxPayload (nats.Conn.MaxPayload). Application
// headers are copied; NATS headers are kept under HeaderOrigPrefix; what
// had to be cut is listed in HeaderTruncated.
func deadLetterMsg(p int, subject string, h nats.Header, data []byte, seq uint64, reason string, maxPayload int64) *nats.Msg {
	budget := int(maxPayload) - min(maxDeadMargin, int(maxPayload)/8)
	// With a small max payload every part shrinks with it.
	valueLimit := min(maxDeadValue, budget/16)
	reasonLimit := min(maxDeadReason, budget/8)
	copyLimit := budget / 4 // all copied headers together

	dl := nats.NewMsg(streams.DeadLetterSubject(p))
	var truncated []string
	clipped := func(name, v string, limit int) string {
		if len(v) <= limit {
			return v
		}
		truncated = append(truncated, "header:"+name)
		return clip(v, limit)
	}

	// Sorted, so that what is left out when space runs short is the same
	// on every replay.
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	copied, dropped := 0, false
	for _, k := range keys {
		if slices.ContainsFunc(reservedDeadHeaders, func(r string) bool { return strings.EqualFold(r, k) }) {
			continue
		}
		name := k
		if len(k) >= 5 && strings.EqualFold(k[:5], "Nats-") {
			name = streams.HeaderOrigPrefix + k
		}
		for _, v := range h[k] {
			v = clipped(name, v, valueLimit)
			size := len(name) + len(v) + 4 // as nats.go encodes it: "k: v\r\n"
			if copied+size > copyLimit {
				dropped = true
				break
			}
			copied += size
			dl.Header[name] = append(dl.Header[name], v)
		}
	}
	if dropped {
		truncated = append(truncated, "headers")
	}
	dl.Header.Set(streams.HeaderError, clipped(streams.HeaderError, reason, reasonLimit))
	dl.Header.Set(streams.HeaderOrigSubject, clipped(streams.HeaderOrigSubject, subject, valueLimit))
	dl.Header.Set(streams.HeaderOrigSeq, strconv.FormatUint(seq, 10))
	// The original sequence as the message id, so a replay does not file
	// it twice.
	dl.Header.Set(nats.MsgIdHdr, "dlq-"+strconv.FormatUint(seq, 10))

	setTruncated := func() {
		if len(truncated) > 0 {
			dl.Header.Set(streams.HeaderTruncated, clip(strings.Join(truncated, ","), valueLimit))
		}
	}
	setTruncated()
	if headerSize(dl)+len(data) > budget {
		truncated = append([]string{"body"}, truncated...)
		dl.Header.Set(streams.HeaderOrigSize, strconv.Itoa(len(data)))
		setTruncated()
		data = data[:max(0, min(len(data), budget-headerSize(dl)))]
	}
	dl.Data = data
	return dl
}

// headerSize is what m's headers take on the wire, which counts against
// the max payload with the body.
func headerSize(m *nats.Msg) int {
	return m.Size() - len(m.Subject) - len(m.Reply) - len(m.Data)
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
