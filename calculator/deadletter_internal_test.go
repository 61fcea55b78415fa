package calculator

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/streams"
)

// Whatever the original carries, its dead letter fits in the max payload
// and says what was cut. The end-to-end cases against a server are in
// deadletter_test.go; these are the shapes too many to publish one by one.
func TestDeadLetterMsgFitsWhateverItCopies(t *testing.T) {
	const maxPayload = 1 << 20
	many := nats.Header{}
	for i := range 40000 {
		many.Set("Nats-H"+strconv.Itoa(i), "v")
	}
	cases := []struct {
		name      string
		h         nats.Header
		data      []byte
		reason    string
		truncated []string
		absent    []string
	}{
		{name: "small", h: nats.Header{"App": {"a"}}, data: []byte("x"), reason: "bad", absent: []string{streams.HeaderTruncated}},
		{name: "body at the limit", data: make([]byte, maxPayload), reason: "bad", truncated: []string{"body"}},
		{name: "huge reason", reason: strings.Repeat("é", 300<<10), truncated: []string{"header:" + streams.HeaderError}},
		{name: "huge header value", h: nats.Header{"App": {strings.Repeat("v", 900<<10)}}, data: make([]byte, 100<<10), reason: "bad", truncated: []string{"header:App"}},
		{name: "headers that grow when renamed", h: many, data: make([]byte, 200<<10), reason: "bad", truncated: []string{"headers"}},
		{name: "everything at once", h: nats.Header{"Nats-Expected-Stream": {strings.Repeat("S", 200<<10)}}, data: make([]byte, maxPayload-100), reason: strings.Repeat("r", 540<<10),
			truncated: []string{"body", "header:Inventory-Original-Nats-Expected-Stream", "header:" + streams.HeaderError}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dl := deadLetterMsg(3, "inventory.adjustments.3.L.S", c.h, c.data, 42, c.reason, maxPayload)
			if size := headerSize(dl) + len(dl.Data); size > maxPayload-maxDeadMargin {
				t.Fatalf("dead letter of %d bytes, max payload %d less margin %d", size, maxPayload, maxDeadMargin)
			}
			got := strings.Split(dl.Header.Get(streams.HeaderTruncated), ",")
			for _, want := range c.truncated {
				if !strings.Contains(dl.Header.Get(streams.HeaderTruncated), want) {
					t.Errorf("%s = %q, want it to name %q", streams.HeaderTruncated, got, want)
				}
			}
			for _, name := range c.absent {
				if v, ok := dl.Header[name]; ok {
					t.Errorf("%s: %v, want none", name, v)
				}
			}
			for name, vs := range dl.Header {
				if strings.HasPrefix(name, "Nats-") && name != nats.MsgIdHdr {
					t.Errorf("copied %s", name)
				}
				for _, v := range vs {
					if !utf8.ValidString(v) {
						t.Errorf("%s cut inside a UTF-8 sequence", name)
					}
				}
			}
		})
	}
}
