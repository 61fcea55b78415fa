package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/commands"
	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/sellable"
)

// MaxBatch is the most commands one batch request may carry.
const MaxBatch = 500

// BatchRecorder stores many commands with one round of acks.
type BatchRecorder interface {
	RecordBatch(ctx context.Context, cs []sellable.Command, idempotencyKey string) ([]sellable.Receipt, error)
}

// Batch stores many adjustments and reservations in one request, for
// warehouse receipts and bulk feeds (POST /inventory/batch). Either
// every command is valid and stored before the 201, or nothing valid was
// asked for (400), or some may be stored (503): retry the same body with
// the same Idempotency-Key and each is stored exactly once. A key
// already used for another batch is refused (422) before any of the
// batch is stored.
func (s commandServer) Batch(c echo.Context, p commands.BatchParams) error {
	cmds, err := decodeBatch(c.Request().Body)
	if err != nil {
		return err
	}
	var key string
	if p.IdempotencyKey != nil {
		key = *p.IdempotencyKey
	}
	if len(key) > 100 {
		return &sellable.FieldError{Field: IdempotencyHeader, Err: errors.New("at most 100 bytes for a batch")}
	}
	src := source(c)
	for i := range cmds {
		// The route needs inventory:adjust; a reservation in it
		// needs what POST /inventory/reservation needs as well.
		if cmds[i].Kind == sellable.Reservation {
			if err := requireScope(c, auth.ScopeReserve); err != nil {
				return err
			}
		}
		cmds[i].Source = src
	}
	receipts, err := s.r.RecordBatch(c.Request().Context(), cmds, key)
	if err != nil {
		retryAfterBusy(c, err)
		return err
	}
	return c.JSON(http.StatusCreated, batchResponse(receipts))
}

// BatchResponse says where each command was stored, in request order.
type BatchResponse struct {
	Results []ReceiptResponse `json:"results"`
}

// ReceiptResponse says where one command of a batch was stored.
type ReceiptResponse struct {
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Partition int    `json:"partition"`
	Duplicate bool   `json:"duplicate"`
}

func batchResponse(rcs []sellable.Receipt) BatchResponse {
	out := make([]ReceiptResponse, len(rcs))
	for i, rc := range rcs {
		out[i] = ReceiptResponse{Stream: rc.Stream, Seq: rc.Seq, Partition: rc.Partition, Duplicate: rc.Duplicate}
	}
	return BatchResponse{Results: out}
}

// decodeBatch reads {"commands":[{"type":"adjustment","locationId",..}]}.
func decodeBatch(body io.Reader) ([]sellable.Command, error) {
	data, err := readBody(body)
	if err != nil {
		return nil, err
	}
	badBody := &sellable.FieldError{Field: "body", Err: errors.New(`must be {"commands":[...]}`)}
	top, err := readObject(data, "")
	if errors.Is(err, errNotObject) {
		return nil, badBody
	}
	if err != nil {
		return nil, err
	}
	var elems []json.RawMessage
	if raw, ok := top["commands"]; ok && string(raw) != "null" {
		if elems, err = readArray(raw); err != nil {
			return nil, badBody
		}
	}
	switch {
	case len(elems) == 0:
		return nil, &sellable.FieldError{Field: "commands", Err: errors.New("must hold at least one command")}
	case len(elems) > MaxBatch:
		return nil, &sellable.FieldError{Field: "commands", Err: fmt.Errorf("at most %d commands", MaxBatch)}
	}
	cmds := make([]sellable.Command, len(elems))
	for i, raw := range elems {
		prefix := fmt.Sprintf("commands[%d].", i)
		fields, err := readObject(raw, prefix)
		if errors.Is(err, errNotObject) {
			return nil, badBody
		}
		if err != nil {
			return nil, err
		}
		cmd, err := batchCommand(fields)
		if err != nil {
			var fe *sellable.FieldError
			if errors.As(err, &fe) {
				return nil, &sellable.FieldError{Field: prefix + fe.Field, Err: fe.Err}
			}
			return nil, err
		}
		cmds[i] = cmd
	}
	return cmds, nil
}

func batchCommand(fields map[string]json.RawMessage) (sellable.Command, error) {
	var kind string
	if raw, ok := fields["type"]; ok && string(raw) != "null" {
		var err error
		if kind, err = stringField(fields, "type"); err != nil {
			return sellable.Command{}, err
		}
	}
	cmd, err := commandFields(fields)
	if err != nil {
		return cmd, err
	}
	switch kind {
	case "adjustment":
		cmd.Kind = sellable.Adjustment
	case "reservation":
		cmd.Kind = sellable.Reservation
	default:
		return cmd, &sellable.FieldError{Field: "type", Err: errors.New(`must be "adjustment" or "reservation"`)}
	}
	return cmd, nil
}
