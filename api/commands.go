package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/sellable"
)

// Recorder stores commands as events.
type Recorder interface {
	Record(ctx context.Context, c sellable.Command) (sellable.Receipt, error)
}

// IdempotencyHeader lets a client retry a command safely.
const IdempotencyHeader = "Idempotency-Key"

// RegisterCommands mounts POST /inventory/adjustment and
// POST /inventory/reservation.
func RegisterCommands(e *echo.Echo, r Recorder) {
	e.POST("/inventory/adjustment", commandHandler(r, sellable.Adjustment), limitBody(MaxBodyBytes))
	e.POST("/inventory/reservation", commandHandler(r, sellable.Reservation), limitBody(MaxBodyBytes))
}

// CommandResponse echoes the command and says where it was stored. Its
// fields are spelled out rather than embedding sellable.Receipt, so that
// the answer's shape is api's to keep whatever the domain type becomes.
type CommandResponse struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
	Reason     string `json:"reason,omitempty"`
	Reference  string `json:"reference,omitempty"`
	Stream     string `json:"stream"`
	Seq        uint64 `json:"seq"`
	Partition  int    `json:"partition"`
	Duplicate  bool   `json:"duplicate"`
}

func commandResponse(c sellable.Command, rc sellable.Receipt) CommandResponse {
	return CommandResponse{
		LocationID: c.LocationID, SKU: c.SKU, Count: c.Count,
		Reason: string(c.Reason), Reference: c.Reference,
		Stream: rc.Stream, Seq: rc.Seq, Partition: rc.Partition, Duplicate: rc.Duplicate,
	}
}

func commandHandler(r Recorder, kind sellable.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		cmd, err := decodeCommand(c.Request().Body)
		if err != nil {
			return err
		}
		cmd.Kind = kind
		cmd.IdempotencyKey = c.Request().Header.Get(IdempotencyHeader)
		if len(cmd.IdempotencyKey) > 128 {
			return &sellable.FieldError{Field: IdempotencyHeader, Err: errors.New("at most 128 bytes")}
		}
		rc, err := r.Record(c.Request().Context(), cmd)
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if rc.Duplicate {
			status = http.StatusOK
		}
		return c.JSON(status, commandResponse(cmd, rc))
	}
}

// decodeCommand reads {"locationId","sku","count"} field by field, so
// that an error names the field it is about.
func decodeCommand(body io.Reader) (sellable.Command, error) {
	data, err := readBody(body)
	if err != nil {
		return sellable.Command{}, err
	}
	fields, err := readObject(data, "")
	if errors.Is(err, errNotObject) {
		return sellable.Command{}, &sellable.FieldError{Field: "body", Err: err}
	}
	if err != nil {
		return sellable.Command{}, err
	}
	return commandFields(fields)
}

// commandFields reads locationId, sku and count from a decoded object.
func commandFields(fields map[string]json.RawMessage) (sellable.Command, error) {
	var cmd sellable.Command
	var err error
	if cmd.LocationID, err = stringField(fields, "locationId"); err != nil {
		return cmd, err
	}
	if cmd.SKU, err = stringField(fields, "sku"); err != nil {
		return cmd, err
	}
	var q sellable.Quantity
	if raw, ok := fields["count"]; ok {
		if err := json.Unmarshal(raw, &q); err != nil {
			return cmd, &sellable.FieldError{Field: "count", Err: sellable.ErrCountSyntax}
		}
	}
	if !q.Set {
		return cmd, &sellable.FieldError{Field: "count", Err: sellable.ErrMissingCount}
	}
	cmd.Count = q.Value
	reason, err := optionalString(fields, "reason")
	if err != nil {
		return cmd, err
	}
	cmd.Reason = sellable.Reason(reason)
	if cmd.Reference, err = optionalString(fields, "reference"); err != nil {
		return cmd, err
	}
	return cmd, nil
}

// optionalString is stringField for a field that may be absent. null is
// refused rather than read as absent: one command, one spelling.
func optionalString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok {
		return "", nil
	}
	if string(raw) == "null" {
		return "", &sellable.FieldError{Field: name, Err: errors.New("must be a string (leave it out for none)")}
	}
	return stringField(fields, name)
}

func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return "", &sellable.FieldError{Field: name, Err: errors.New("is required")}
	}
	if len(raw) == 0 || raw[0] != '"' {
		return "", &sellable.FieldError{Field: name, Err: errors.New("must be a string")}
	}
	s, err := unquote(raw)
	if err != nil {
		return "", &sellable.FieldError{Field: name, Err: err}
	}
	return s, nil
}
