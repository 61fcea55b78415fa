package ctl

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
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
// WatchSubject) until ctx ends. changes decodes them (Avro with the
// registry's schemas, or JSON). A change it cannot decode is reported on
// its line and watching goes on: an operator wants to see it.
func Watch(ctx context.Context, nc *nats.Conn, changes *wire.ChangeCodec, subject string, out io.Writer) error {
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
			p, err := changes.DecodeChange(ctx, m.Header, m.Data)
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
