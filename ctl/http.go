package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/calculator"
)

// ErrHTTP is an answer of the API other than success.
var ErrHTTP = errors.New("ctl: request refused")

// Client calls the inventory HTTP API at BaseURL.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Token, when set, is sent as the bearer token of every request.
	Token string
}

func (c Client) do(ctx context.Context, method, path string, header http.Header, body any, into any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s %s: %s: %s", ErrHTTP, method, path, resp.Status, bytes.TrimSpace(data))
	}
	return json.Unmarshal(data, into)
}

// CommandResult is the API's answer to a command: where the event was
// stored, and whether it was a retry of one stored before.
type CommandResult struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
	Stream     string `json:"stream"`
	Seq        uint64 `json:"seq"`
	Partition  int    `json:"partition"`
	Duplicate  bool   `json:"duplicate"`
}

// Command posts an adjustment or reservation ("adjustment",
// "reservation") of count for loc and sku; key, when not empty, is its
// Idempotency-Key so that running the same command again stores it once.
func (c Client) Command(ctx context.Context, kind, loc, sku string, count int64, key string) (CommandResult, error) {
	h := http.Header{}
	if key != "" {
		h.Set(api.IdempotencyHeader, key)
	}
	// count as a string, so that the API's own number rules apply.
	body := map[string]string{"locationId": loc, "sku": sku, "count": strconv.FormatInt(count, 10)}
	var r CommandResult
	err := c.do(ctx, http.MethodPost, "/inventory/"+kind, h, body, &r)
	return r, err
}

// Get reads the sellable position of loc and sku.
func (c Client) Get(ctx context.Context, loc, sku string) (api.PositionResponse, error) {
	var p api.PositionResponse
	err := c.do(ctx, http.MethodGet, "/inventory/locations/"+url.PathEscape(loc)+"/skus/"+url.PathEscape(sku), nil, nil, &p)
	return p, err
}

// Status reads a calculator instance's partitions and lag.
func (c Client) Status(ctx context.Context) (calculator.Status, error) {
	var s calculator.Status
	err := c.do(ctx, http.MethodGet, "/calculator/status", nil, nil, &s)
	return s, err
}
