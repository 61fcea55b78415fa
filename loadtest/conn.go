package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// target is the system under test: its NATS server and its HTTP API.
type target struct {
	nc         *nats.Conn
	js         jetstream.JetStream
	partitions int
	http       *httpClient
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
	return &target{nc: nc, js: js, partitions: n, http: newHTTPClient(c.HTTPURL, c.Concurrency)}, nil
}

func (t *target) close() {
	t.http.c.CloseIdleConnections()
	_ = t.nc.Drain()
}

// httpClient speaks the command and query API.
type httpClient struct {
	base string
	c    *http.Client
}

func newHTTPClient(base string, conns int) *httpClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * conns
	tr.MaxIdleConnsPerHost = 2 * conns
	return &httpClient{base: strings.TrimRight(base, "/"), c: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

type commandBody struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
}

var commandPath = map[sellable.Kind]string{
	sellable.Adjustment:  "/inventory/adjustment",
	sellable.Reservation: "/inventory/reservation",
}

// post records one command and returns the event's stream sequence.
func (h *httpClient) post(ctx context.Context, kind sellable.Kind, k sellable.Key, count int64) (uint64, error) {
	body, err := json.Marshal(commandBody{LocationID: k.LocationID, SKU: k.SKU, Count: count})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+commandPath[kind], bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	var rc struct {
		Seq uint64 `json:"seq"`
	}
	status, err := h.do(req, &rc)
	if err != nil {
		return 0, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return 0, fmt.Errorf("loadtest: POST %s: status %d", commandPath[kind], status)
	}
	return rc.Seq, nil
}

// send records evs, one command alone or several as a batch, and returns
// their stream sequences in order.
func (h *httpClient) send(ctx context.Context, ks *keySet, evs []event) ([]uint64, error) {
	if len(evs) == 1 {
		seq, err := h.post(ctx, evs[0].kind, ks.keys[evs[0].key], evs[0].count)
		return []uint64{seq}, err
	}
	type item struct {
		Type string `json:"type"`
		commandBody
	}
	items := make([]item, len(evs))
	for i, ev := range evs {
		k := ks.keys[ev.key]
		items[i] = item{Type: ev.kind.String(), commandBody: commandBody{LocationID: k.LocationID, SKU: k.SKU, Count: ev.count}}
	}
	body, err := json.Marshal(map[string]any{"commands": items})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/inventory/batch", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		Results []struct {
			Seq uint64 `json:"seq"`
		} `json:"results"`
	}
	status, err := h.do(req, &out)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated || len(out.Results) != len(evs) {
		return nil, fmt.Errorf("loadtest: POST /inventory/batch: status %d, %d results for %d commands", status, len(out.Results), len(evs))
	}
	seqs := make([]uint64, len(evs))
	for i, r := range out.Results {
		seqs[i] = r.Seq
	}
	return seqs, nil
}

// get reads a position's sequence; 0 when it does not exist yet.
func (h *httpClient) get(ctx context.Context, k sellable.Key) (uint64, error) {
	u := h.base + "/inventory/locations/" + url.PathEscape(k.LocationID) + "/skus/" + url.PathEscape(k.SKU)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	var pos struct {
		Seq uint64 `json:"seq"`
	}
	status, err := h.do(req, &pos)
	switch {
	case err != nil:
		return 0, err
	case status == http.StatusNotFound:
		return 0, nil
	case status != http.StatusOK:
		return 0, fmt.Errorf("loadtest: GET %s: status %d", u, status)
	}
	return pos.Seq, nil
}

// do sends req and decodes a 2xx JSON answer into out. The body is always
// read to the end, so the connection is reused.
func (h *httpClient) do(req *http.Request, out any) (int, error) {
	resp, err := h.c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("loadtest: decode answer: %w", err)
		}
	}
	return resp.StatusCode, nil
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
