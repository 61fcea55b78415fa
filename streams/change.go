package streams

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
)

// Change is a sellable change: the new value of a position after the
// calculator folded events into it, published on SellableSubject.
type Change = sellable.Position

// ChangeMsg builds the message that announces p. Its Nats-Msg-Id is the
// position and the event sequence it reflects, so republishing the same
// value (after a crash or takeover) is dropped by the stream.
func ChangeMsg(p sellable.Position) (*nats.Msg, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("streams: encode change: %w", err)
	}
	k := Key{LocationID: p.LocationID, SKU: p.SKU}
	m := nats.NewMsg(SellableSubject(k))
	m.Data = data
	m.Header.Set(HeaderContentType, ContentTypeJSON)
	m.Header.Set(nats.MsgIdHdr, k.String()+"@"+strconv.FormatUint(p.Seq, 10))
	return m, nil
}

// DecodeChange reads a sellable change message.
func DecodeChange(h nats.Header, data []byte) (sellable.Position, error) {
	if ct := h.Get(HeaderContentType); ct != "" && ct != ContentTypeJSON {
		return sellable.Position{}, fmt.Errorf("%w: unknown content type %q", ErrDecode, ct)
	}
	var p sellable.Position
	if err := json.Unmarshal(data, &p); err != nil {
		return sellable.Position{}, fmt.Errorf("%w: change: %v", ErrDecode, err)
	}
	return p, nil
}
