package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	hregistry "github.com/hamba/avro/v2/registry"

	"github.com/sellable/inventory/wire"
)

// Client is a wire.SchemaRegistry reached over Confluent's HTTP API
// through hamba/avro's client, for a program that does not run the
// registry in-process. Today only tests use it, to drive the codecs through
// the HTTP API.
type Client struct {
	client *hregistry.Client
}

// NewClient talks to the registry at baseURL, e.g.
// http://127.0.0.1:8081.
func NewClient(baseURL string, opts ...hregistry.ClientFunc) (*Client, error) {
	c, err := hregistry.NewClient(baseURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("registry: client: %w", err)
	}
	return &Client{client: c}, nil
}

// Register creates schema under subject, or finds it there.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	id, _, err := c.client.CreateSchema(ctx, subject, schema)
	if err != nil {
		var rerr hregistry.Error
		if errors.As(err, &rerr) && (rerr.StatusCode == http.StatusConflict || rerr.StatusCode == http.StatusUnprocessableEntity) {
			return 0, fmt.Errorf("%w: %w", wire.ErrSchemaRejected, err)
		}
		return 0, err
	}
	return id, nil
}

// SchemaByID fetches the schema with id (the client caches it).
func (c *Client) SchemaByID(ctx context.Context, id int) (string, error) {
	sch, err := c.client.GetSchema(ctx, id)
	if err != nil {
		var rerr hregistry.Error
		if errors.As(err, &rerr) && rerr.StatusCode == http.StatusNotFound {
			return "", fmt.Errorf("id %d: %w: %w", id, wire.ErrSchemaNotFound, err)
		}
		return "", err
	}
	// The full JSON form, not the canonical one, which drops defaults.
	b, err := json.Marshal(sch)
	if err != nil {
		return "", fmt.Errorf("id %d: %w", id, err)
	}
	return string(b), nil
}
