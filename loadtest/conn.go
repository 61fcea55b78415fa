package loadtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/client"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// target is the system under test: its NATS server and its HTTP API.
type target struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	partitions int
	http       *httpClient
	// events encodes what goes over NATS (Config.Format).
	events wire.EventCodec
}

func connect(ctx context.Context, c Config) (*target, error) {
	nc, err := nats.Connect(c.NATSURL, nats.Name("inventory-load"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("loadtest: connect %s: %w", c.NATSURL, err)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(c.Window+64),
		jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadtest: jetstream: %w", err)
	}
	n, err := streams.Partitions(ctx, js)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadtest: is the inventory system running at %s? %w", c.NATSURL, err)
	}
	events, err := eventCodec(ctx, js, c.Format)
	if err != nil {
		nc.Close()
		return nil, err
	}
	h, err := newHTTPClient(c.HTTPURL, c.Concurrency)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &target{nc: nc, js: js, partitions: n, http: h, events: events}, nil
}

// eventCodec is the codec of format. For Avro it opens the system's own
// registry bucket, as every program of the system does, and finds (or
// registers) the event schemas there, so that events carry the ids the
// system's command path writes with.
func eventCodec(ctx context.Context, js jetstream.JetStream, format Format) (wire.EventCodec, error) {
	if format != FormatAvro {
		return wire.JSON{}, nil
	}
	store, err := registry.NewStore(ctx, js, registry.DefaultConfig())
	if err != nil {
		return nil, fmt.Errorf("loadtest: schema registry: %w", err)
	}
	ev, err := wire.NewAvroEvents(ctx, registry.Local{Store: store}, wire.AvroConfig{})
	if err != nil {
		return nil, fmt.Errorf("loadtest: avro event schemas: %w", err)
	}
	return ev, nil
}

func (t *target) close() {
	t.http.hc.CloseIdleConnections()
	_ = t.nc.Drain()
}

// httpClient speaks the command and query API through the client
// generated from the document (package client), so the load tool sends
// exactly what the document describes. BENCHMARKS.md compares its cost with
// the hand-written calls it replaced ("The load tool on the generated
// client").
type httpClient struct {
	c  *client.ClientWithResponses
	hc *http.Client
}

func newHTTPClient(base string, conns int) (*httpClient, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * conns
	tr.MaxIdleConnsPerHost = 2 * conns
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(hc))
	if err != nil {
		return nil, fmt.Errorf("loadtest: %s: %w", base, err)
	}
	return &httpClient{c: c, hc: hc}, nil
}

// post records one command and returns the event's stream sequence.
func (h *httpClient) post(ctx context.Context, kind sellable.Kind, k sellable.Key, count int64) (uint64, error) {
	var (
		status int
		stored *client.CommandResponse
	)
	switch kind {
	case sellable.Adjustment:
		r, err := h.c.AdjustWithResponse(ctx, nil, client.AdjustJSONRequestBody{LocationId: k.LocationID, Sku: k.SKU, Count: client.AdjustmentCountOf(count)})
		if err != nil {
			return 0, err
		}
		status, stored = r.StatusCode(), cmp.Or(r.JSON201, r.JSON200)
	case sellable.Reservation:
		r, err := h.c.ReserveWithResponse(ctx, nil, client.ReserveJSONRequestBody{LocationId: k.LocationID, Sku: k.SKU, Count: client.ReservationCountOf(count)})
		if err != nil {
			return 0, err
		}
		status, stored = r.StatusCode(), cmp.Or(r.JSON201, r.JSON200)
	default:
		return 0, fmt.Errorf("loadtest: no endpoint for %v", kind)
	}
	if stored == nil {
		return 0, fmt.Errorf("loadtest: %v: status %d", kind, status)
	}
	return uint64(stored.Seq), nil
}

// send records evs, one command alone or several as a batch, and returns
// their stream sequences in order.
func (h *httpClient) send(ctx context.Context, ks *keySet, evs []event) ([]uint64, error) {
	if len(evs) == 1 {
		seq, err := h.post(ctx, evs[0].kind, ks.keys[evs[0].key], evs[0].count)
		return []uint64{seq}, err
	}
	items := make([]client.BatchCommand, len(evs))
	for i, ev := range evs {
		k := ks.keys[ev.key]
		if ev.kind == sellable.Reservation {
			items[i] = client.ReservationItem(k.LocationID, k.SKU, ev.count)
		} else {
			items[i] = client.AdjustmentItem(k.LocationID, k.SKU, ev.count)
		}
	}
	r, err := h.c.BatchWithResponse(ctx, nil, client.BatchJSONRequestBody{Commands: items})
	if err != nil {
		return nil, err
	}
	if r.JSON201 == nil || len(r.JSON201.Results) != len(evs) {
		n := 0
		if r.JSON201 != nil {
			n = len(r.JSON201.Results)
		}
		return nil, fmt.Errorf("loadtest: POST /inventory/batch: status %d, %d results for %d commands", r.StatusCode(), n, len(evs))
	}
	seqs := make([]uint64, len(evs))
	for i, res := range r.JSON201.Results {
		seqs[i] = uint64(res.Seq)
	}
	return seqs, nil
}

// get reads a position's sequence; 0 when it does not exist yet.
func (h *httpClient) get(ctx context.Context, k sellable.Key) (uint64, error) {
	r, err := h.c.GetPositionWithResponse(ctx, k.LocationID, k.SKU, nil)
	switch {
	case err != nil:
		return 0, err
	case r.StatusCode() == http.StatusNotFound:
		return 0, nil
	case r.JSON200 == nil:
		return 0, fmt.Errorf("loadtest: GET %s/%s: status %d", k.LocationID, k.SKU, r.StatusCode())
	}
	return uint64(r.JSON200.Seq), nil
}

// sleepUntil waits for t or the end of ctx.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

var errTooManyErrors = errors.New("loadtest: too many failed sends, stopping")
