package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/commands"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/sellable"
)

// Recorder stores commands as events.
type Recorder interface {
	Record(ctx context.Context, c sellable.Command) (sellable.Receipt, error)
}

// IdempotencyHeader lets a client retry a command safely.
const IdempotencyHeader = "Idempotency-Key"

// CommandRecorder stores single commands and batches.
type CommandRecorder interface {
	Recorder
	BatchRecorder
}

// RegisterCommands mounts the operations tagged commands in openapi.yaml
// through their generated server (gen/commands): POST
// /inventory/adjustment, POST /inventory/reservation and POST
// /inventory/batch, each with its body limit and the document's rules
// for its header and media type (commandCheck).
func RegisterCommands(e *echo.Echo, r CommandRecorder) {
	commands.RegisterHandlersWithOptions(composedRouter{e}, commandServer{r}, commands.RegisterHandlersOptions{
		OperationMiddlewares: withCheck("commands", map[string][]echo.MiddlewareFunc{
			"adjust":  {limitBody(MaxBodyBytes)},
			"reserve": {limitBody(MaxBodyBytes)},
			"batch":   {limitBody(MaxBatchBodyBytes)},
		}, commandCheck),
	})
}

// commandServer implements the generated commands.ServerInterface. The
// bodies are decoded by hand (decode.go), not into the generated types:
// a count is a number or a string, duplicate keys are refused, and an
// error names the field; see api/doc.go.
type commandServer struct{ r CommandRecorder }

var _ commands.ServerInterface = commandServer{}

func (s commandServer) Adjust(c echo.Context, p commands.AdjustParams) error {
	return record(c, s.r, sellable.Adjustment, p.IdempotencyKey)
}

func (s commandServer) Reserve(c echo.Context, p commands.ReserveParams) error {
	return record(c, s.r, sellable.Reservation, p.IdempotencyKey)
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

func record(c echo.Context, r Recorder, kind sellable.Kind, key *string) error {
	cmd, err := decodeCommand(c.Request().Body)
	if err != nil {
		return err
	}
	cmd.Kind = kind
	cmd.Source = source(c)
	if key != nil {
		cmd.IdempotencyKey = *key
	}
	// The document's maxLength counts characters; the limit is bytes.
	if len(cmd.IdempotencyKey) > 128 {
		return &sellable.FieldError{Field: IdempotencyHeader, Err: errors.New("at most 128 bytes")}
	}
	rc, err := r.Record(c.Request().Context(), cmd)
	if err != nil {
		retryAfterBusy(c, err)
		return err
	}
	status := http.StatusCreated
	if rc.Duplicate {
		status = http.StatusOK
	}
	buf := answerBuffers.Get().(*[]byte)
	*buf = appendCommandAnswer((*buf)[:0], commandResponse(cmd, rc))
	// Blob has copied the answer to the connection when it returns.
	err = c.Blob(status, echo.MIMEApplicationJSON, *buf)
	if cap(*buf) <= maxPooledAnswer {
		answerBuffers.Put(buf)
	}
	return err
}

// maxPooledAnswer is the largest buffer answerBuffers keeps: every
// answer of valid identifiers fits, escapes included.
const maxPooledAnswer = 4 << 10

// answerBuffers hold the answers of single commands while they are
// written; one grown past a long answer is not kept.
var answerBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// appendCommandAnswer appends r as c.JSON writes it (encoding/json with
// HTML escaping, a trailing newline), byte for byte
// (TestCommandAnswerIsTheJSONAnswer): written by hand it costs no
// reflection and no allocation, where encoding/json was 4 µs of a POST's
// server CPU (BENCHMARKS.md, "Where a single command's CPU goes").
func appendCommandAnswer(dst []byte, r CommandResponse) []byte {
	dst = append(dst, `{"locationId":`...)
	dst = appendJSONString(dst, r.LocationID)
	dst = append(dst, `,"sku":`...)
	dst = appendJSONString(dst, r.SKU)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, r.Count, 10)
	if r.Reason != "" {
		dst = append(dst, `,"reason":`...)
		dst = appendJSONString(dst, r.Reason)
	}
	if r.Reference != "" {
		dst = append(dst, `,"reference":`...)
		dst = appendJSONString(dst, r.Reference)
	}
	dst = append(dst, `,"stream":`...)
	dst = appendJSONString(dst, r.Stream)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendUint(dst, r.Seq, 10)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(r.Partition), 10)
	dst = append(dst, `,"duplicate":`...)
	dst = strconv.AppendBool(dst, r.Duplicate)
	return append(dst, "}\n"...)
}

// retryAfterBusy tells a client refused because too many commands await
// their acks (command.ErrBusy, a 503) to retry in a second: a full
// window drains in milliseconds when the stream is up.
func retryAfterBusy(c echo.Context, err error) {
	if errors.Is(err, command.ErrBusy) {
		c.Response().Header().Set("Retry-After", "1")
	}
}

// decodeCommand reads {"locationId","sku","count"} field by field, so
// that an error names the field it is about. It reads the body in one
// pass (commandBody) rather than through readObject's map: the same
// answers, without a decoder walking it token by token.
func decodeCommand(body io.Reader) (sellable.Command, error) {
	buf := bodyBuffers.Get().(*[]byte)
	data, err := readBodyInto((*buf)[:0], body)
	// The command holds copies (unquote), nothing of data.
	defer func() {
		if cap(data) <= maxPooledBody {
			*buf = data[:0]
			bodyBuffers.Put(buf)
		}
	}()
	if err != nil {
		return sellable.Command{}, err
	}
	var b commandBody
	if err := b.read(data); err != nil {
		if errors.Is(err, errNotObject) {
			return sellable.Command{}, &sellable.FieldError{Field: "body", Err: err}
		}
		return sellable.Command{}, err
	}
	return b.command()
}

// bodyBuffers hold single commands' bodies while they are decoded: a
// body read with io.ReadAll was two allocations per POST.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBody is the largest buffer bodyBuffers keeps: every valid
// command fits (maxCommandBytes).
const maxPooledBody = 4 << 10

// commandFields reads locationId, sku and count from a decoded object.
func commandFields(fields map[string]json.RawMessage) (sellable.Command, error) {
	var b commandBody
	for i, name := range commandMembers {
		if raw, ok := fields[name]; ok {
			b.raw[i], b.seen = raw, b.seen|1<<i
		}
	}
	return b.command()
}

// command reads the fields in a fixed order, so that of several wrong
// fields the same one is named whatever the order of the body.
func (b *commandBody) command() (sellable.Command, error) {
	var cmd sellable.Command
	var err error
	if cmd.LocationID, err = stringValue("locationId", b.raw[memberLocationID], b.has(memberLocationID)); err != nil {
		return cmd, err
	}
	if cmd.SKU, err = stringValue("sku", b.raw[memberSKU], b.has(memberSKU)); err != nil {
		return cmd, err
	}
	if cmd.Count, err = countValue(b.raw[memberCount], b.has(memberCount)); err != nil {
		return cmd, err
	}
	reason, err := optionalValue("reason", b.raw[memberReason], b.has(memberReason))
	if err != nil {
		return cmd, err
	}
	cmd.Reason = sellable.Reason(reason)
	if cmd.Reference, err = optionalValue("reference", b.raw[memberReference], b.has(memberReference)); err != nil {
		return cmd, err
	}
	return cmd, nil
}

// countValue reads count: a number or a string holding one
// (sellable.Quantity), required.
func countValue(raw []byte, ok bool) (int64, error) {
	var q sellable.Quantity
	if ok {
		if err := unmarshalQuantity(raw, &q); err != nil {
			return 0, &sellable.FieldError{Field: "count", Err: sellable.ErrCountSyntax}
		}
	}
	if !q.Set {
		return 0, &sellable.FieldError{Field: "count", Err: sellable.ErrMissingCount}
	}
	return q.Value, nil
}

// unmarshalQuantity is json.Unmarshal(raw, q) for one valid JSON value.
// A string of only digits and minus signs is read as the number it
// spells, which is what Quantity does with it after unquoting it, only
// without the unquoting.
func unmarshalQuantity(raw []byte, q *sellable.Quantity) error {
	if n := len(raw); n > 2 && raw[0] == '"' && raw[n-1] == '"' && plainDigits(raw[1:n-1]) {
		return q.UnmarshalJSON(raw[1 : n-1])
	}
	return q.UnmarshalJSON(raw)
}

func plainDigits(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// optionalString is stringField for a field that may be absent. null is
// refused rather than read as absent: one command, one spelling.
func optionalString(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	return optionalValue(name, raw, ok)
}

func optionalValue(name string, raw []byte, ok bool) (string, error) {
	if !ok {
		return "", nil
	}
	if string(raw) == "null" {
		return "", &sellable.FieldError{Field: name, Err: errors.New("must be a string (leave it out for none)")}
	}
	return stringValue(name, raw, ok)
}

func stringField(fields map[string]json.RawMessage, name string) (string, error) {
	raw, ok := fields[name]
	return stringValue(name, raw, ok)
}

// stringValue reads the string member name, raw as given (ok: present).
func stringValue(name string, raw []byte, ok bool) (string, error) {
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
