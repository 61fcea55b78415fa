package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api/gen/reservations"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/sellable"
)

// Reserver is the cart reservation service (command.Reservations).
type Reserver interface {
	Reserve(ctx context.Context, req command.ReserveRequest) (command.Reserved, error)
	Get(ctx context.Context, id string) (sellable.CartReservation, error)
	Step(ctx context.Context, id string, step sellable.Step) (sellable.CartReservation, error)
}

// MaxReservationBodyBytes bounds a reservation request: the largest
// line, MaxReservationLines times, and room for the rest (~160 KiB).
const MaxReservationBodyBytes = int64(sellable.MaxReservationLines*maxCommandBytes + 4<<10)

// RegisterReservations mounts the operations tagged reservations in
// openapi.yaml through their generated server (gen/reservations):
// POST /inventory/reservations, GET /inventory/reservations/{id} and
// POST /inventory/reservations/{id}/confirm|release|fulfil.
func RegisterReservations(e *echo.Echo, r Reserver) {
	reservations.RegisterHandlersWithOptions(e, reservationServer{r}, reservations.RegisterHandlersOptions{
		OperationMiddlewares: withValidation("reservations", map[string][]echo.MiddlewareFunc{
			"reserveCart":        {limitBody(MaxReservationBodyBytes)},
			"confirmReservation": {limitBody(MaxBodyBytes)},
			"releaseReservation": {limitBody(MaxBodyBytes)},
			"fulfilReservation":  {limitBody(MaxBodyBytes)},
		}),
	})
}

// reservationServer implements the generated reservations.ServerInterface;
// the request body is decoded by hand (decodeReserve), as the commands'.
type reservationServer struct{ r Reserver }

var _ reservations.ServerInterface = reservationServer{}

func (s reservationServer) ReserveCart(c echo.Context) error { return reserveHandler(s.r)(c) }

func (s reservationServer) GetReservation(c echo.Context, id reservations.ReservationID) error {
	res, err := s.r.Get(c.Request().Context(), id)
	if err != nil {
		return reservationError(c, err)
	}
	return c.JSON(http.StatusOK, reservationResponse(res, nil))
}

func (s reservationServer) ConfirmReservation(c echo.Context, id reservations.ReservationID) error {
	return s.step(c, id, sellable.Confirm)
}

func (s reservationServer) ReleaseReservation(c echo.Context, id reservations.ReservationID) error {
	return s.step(c, id, sellable.Cancel)
}

func (s reservationServer) FulfilReservation(c echo.Context, id reservations.ReservationID) error {
	return s.step(c, id, sellable.Fulfil)
}

func (s reservationServer) step(c echo.Context, id string, step sellable.Step) error {
	res, err := s.r.Step(c.Request().Context(), id, step)
	if err != nil {
		return reservationError(c, err)
	}
	return c.JSON(http.StatusOK, reservationResponse(res, nil))
}

// ReservationResponse is a cart reservation as the API serves it.
type ReservationResponse struct {
	ReservationID string         `json:"reservationId"`
	State         string         `json:"state"`
	ExpiresAt     string         `json:"expiresAt"`
	CreatedAt     string         `json:"createdAt"`
	UpdatedAt     string         `json:"updatedAt"`
	Lines         []LineResponse `json:"lines"`
	// Replay is true when the request repeated one that created the
	// reservation: nothing new was stored.
	Replay bool `json:"replay"`
}

// LineResponse is one line of a reservation.
type LineResponse struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Count      int64  `json:"count"`
	// Sellable is the line's sellable quantity right after the
	// reservation was created; only in a creating request's answer.
	Sellable *int64 `json:"sellable,omitempty"`
}

func reservationResponse(r sellable.CartReservation, sellableAfter []int64) ReservationResponse {
	out := ReservationResponse{
		ReservationID: r.ID, State: r.State.String(),
		ExpiresAt: formatTime(r.ExpiresAt), CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.UpdatedAt),
		Lines: make([]LineResponse, len(r.Lines)),
	}
	for i, l := range r.Lines {
		out.Lines[i] = LineResponse{LocationID: l.Key.LocationID, SKU: l.Key.SKU, Count: l.Count}
		if i < len(sellableAfter) {
			out.Lines[i].Sellable = &sellableAfter[i]
		}
	}
	return out
}

func formatTime(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(TimeFormat) }

// ShortLine is a line that could not be held.
type ShortLine struct {
	LocationID string `json:"locationId"`
	SKU        string `json:"sku"`
	Requested  int64  `json:"requested"`
	Sellable   int64  `json:"sellable"`
}

// InsufficientStockBody is the 409 of a cart that cannot be held.
type InsufficientStockBody struct {
	Error string      `json:"error"`
	Lines []ShortLine `json:"lines"`
}

// TransitionBody is the 409 of a lifecycle step the state does not allow.
type TransitionBody struct {
	Error string `json:"error"`
	State string `json:"state"`
}

// reservationError answers the errors that are the reservations' own
// and hands the rest to the shared error handler.
func reservationError(c echo.Context, err error) error {
	var short *sellable.InsufficientStockError
	var te *sellable.TransitionError
	switch {
	case errors.As(err, &short):
		body := InsufficientStockBody{Error: "insufficient sellable stock; nothing was reserved"}
		for _, s := range short.Short {
			body.Lines = append(body.Lines, ShortLine{LocationID: s.Key.LocationID, SKU: s.Key.SKU, Requested: s.Requested, Sellable: s.Sellable})
		}
		return c.JSON(http.StatusConflict, body)
	case errors.As(err, &te):
		return c.JSON(http.StatusConflict, TransitionBody{Error: te.Error(), State: te.State.String()})
	case errors.Is(err, sellable.ErrReservationNotFound):
		return c.JSON(http.StatusNotFound, ErrorBody{Error: "reservation not found"})
	case errors.Is(err, sellable.ErrReservationMismatch):
		return c.JSON(http.StatusUnprocessableEntity, ErrorBody{
			Error: "reservationId already names a reservation with other lines; nothing was reserved",
			Field: "reservationId",
		})
	}
	return err
}

func reserveHandler(r Reserver) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, err := decodeReserve(c)
		if err != nil {
			return err
		}
		res, err := r.Reserve(c.Request().Context(), req)
		if err != nil {
			return reservationError(c, err)
		}
		body := reservationResponse(res.Reservation, res.SellableAfter)
		body.Replay = res.Replay
		status := http.StatusCreated
		if res.Replay {
			status = http.StatusOK
		}
		return c.JSON(status, body)
	}
}

var errUnknownField = errors.New("is not a field of this request")

// decodeReserve reads {"reservationId"?, "lines", "ttl"? | "expiresAt"?},
// refusing unknown fields and naming the field of every error.
func decodeReserve(c echo.Context) (command.ReserveRequest, error) {
	var req command.ReserveRequest
	data, err := readBody(c.Request().Body)
	if err != nil {
		return req, err
	}
	fields, err := readObject(data, "")
	if errors.Is(err, errNotObject) {
		return req, &sellable.FieldError{Field: "body", Err: err}
	}
	if err != nil {
		return req, err
	}
	for name := range fields {
		switch name {
		case "reservationId", "lines", "ttl", "expiresAt":
		default:
			return req, unknownField("", name, errUnknownField)
		}
	}
	if _, ok := fields["reservationId"]; ok {
		if req.ID, err = stringField(fields, "reservationId"); err != nil {
			return req, err
		}
		if err := sellable.ValidateReservationID(req.ID); err != nil {
			return req, &sellable.FieldError{Field: "reservationId", Err: err}
		}
	}
	if _, ok := fields["ttl"]; ok {
		s, err := stringField(fields, "ttl")
		if err != nil {
			return req, err
		}
		if req.TTL, err = time.ParseDuration(s); err != nil || req.TTL <= 0 {
			return req, &sellable.FieldError{Field: "ttl", Err: errors.New(`must be a duration such as "15m" or "90s"`)}
		}
	}
	if _, ok := fields["expiresAt"]; ok {
		s, err := stringField(fields, "expiresAt")
		if err != nil {
			return req, err
		}
		if req.ExpiresAt, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return req, &sellable.FieldError{Field: "expiresAt", Err: errors.New("must be an RFC 3339 time")}
		}
	}
	raw, ok := fields["lines"]
	if !ok || string(raw) == "null" {
		return req, &sellable.FieldError{Field: "lines", Err: sellable.ErrNoLines}
	}
	elems, err := readArray(raw)
	if err != nil {
		return req, &sellable.FieldError{Field: "lines", Err: errors.New("must be an array")}
	}
	if len(elems) > sellable.MaxReservationLines {
		return req, &sellable.FieldError{Field: "lines", Err: sellable.ErrTooManyLines}
	}
	for i, el := range elems {
		prefix := fmt.Sprintf("lines[%d].", i)
		lf, err := readObject(el, prefix)
		if errors.Is(err, errNotObject) {
			return req, &sellable.FieldError{Field: fmt.Sprintf("lines[%d]", i), Err: err}
		}
		if err != nil {
			return req, err
		}
		for name := range lf {
			if name != "locationId" && name != "sku" && name != "count" {
				return req, unknownField(prefix, name, errUnknownField)
			}
		}
		cmd, err := commandFields(lf)
		if err != nil {
			var fe *sellable.FieldError
			if errors.As(err, &fe) {
				return req, &sellable.FieldError{Field: prefix + fe.Field, Err: fe.Err}
			}
			return req, err
		}
		req.Lines = append(req.Lines, sellable.ReservationLine{Key: sellable.Key{LocationID: cmd.LocationID, SKU: cmd.SKU}, Count: cmd.Count})
	}
	// The domain's rules (counts, duplicate keys, no lines), named per line.
	if err := sellable.ValidateLines(req.Lines); err != nil {
		return req, err
	}
	return req, nil
}
