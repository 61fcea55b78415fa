package ctl

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// WatchSubject is the subject of the sellable changes of loc and sku, an
// empty one meaning any.
func WatchSubject(loc, sku string) string {
	l, s := "*", "*"
	if loc != "" {
		l = streams.EncodeToken(loc)
	}
	if sku != "" {
		s = streams.EncodeToken(sku)
	}
	return "inventory.sellable." + l + "." + s
}

// Watch prints one line per sellable change on subject (see
// WatchSubject) until ctx ends. A change is the view bucket's value as
// the bucket republishes it (kv.BucketConfig), read with kv.DecodeValue;
// a key deleted or purged from the view (to have it rebuilt) is printed
// as such. A change it cannot decode is reported on its line and
// watching goes on: an operator wants to see it.
func Watch(ctx context.Context, nc *nats.Conn, subject string, out io.Writer) error {
	ch := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		return fmt.Errorf("ctl: watch %s: %w", subject, err)
	}
	defer sub.Unsubscribe() //nolint:errcheck // closing anyway
	// Flush so that the subscription is in place when Watch is ready.
	if err := nc.Flush(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			if kv.IsMarker(m.Header) {
				fmt.Fprintf(out, "%s deleted from the view (rebuilt from the log on its next event)\n", m.Subject)
				continue
			}
			p, err := kv.DecodeValue(m.Data)
			if err != nil {
				fmt.Fprintf(out, "%s undecodable change: %v\n", m.Subject, err)
				continue
			}
			fmt.Fprintln(out, ChangeLine(p))
		}
	}
}

// ChangeLine is how watch prints a change.
func ChangeLine(p sellable.Position) string {
	return fmt.Sprintf("%s location=%q sku=%q sellable=%d adjusted=%d reserved=%d seq=%d",
		p.UpdatedAt.UTC().Format(time.RFC3339Nano), p.LocationID, p.SKU, p.Count, p.OnHand, p.Reserved, p.Seq)
}
