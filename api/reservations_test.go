package api_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/streams"
)

func postJSON(t *testing.T, url, body string, out any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// Bad reservation requests are 400s naming the field, and store nothing.
func TestReserveRefusesBadInputNamingTheField(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 2})
	base := sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL + "/inventory/reservations"
	line := func(sku string, count any) string {
		return fmt.Sprintf(`{"locationId":"L","sku":%q,"count":%v}`, sku, count)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = line(fmt.Sprint(i), 1)
	}
	cases := map[string]struct{ body, field string }{
		"no lines":        {`{"lines":[]}`, "lines"},
		"lines missing":   {`{}`, "lines"},
		"101 lines":       {`{"lines":[` + strings.Join(many, ",") + `]}`, "lines"},
		"same key twice":  {`{"lines":[` + line("a", 1) + `,` + line("a", 2) + `]}`, "lines[1]"},
		"count zero":      {`{"lines":[` + line("a", 0) + `]}`, "lines[0].count"},
		"count negative":  {`{"lines":[` + line("a", -1) + `]}`, "lines[0].count"},
		"ttl too short":   {`{"ttl":"9s","lines":[` + line("a", 1) + `]}`, "ttl"},
		"ttl too long":    {`{"ttl":"25h","lines":[` + line("a", 1) + `]}`, "ttl"},
		"ttl not a time":  {`{"ttl":"soon","lines":[` + line("a", 1) + `]}`, "ttl"},
		"expiresAt past":  {`{"expiresAt":"2020-01-01T00:00:00Z","lines":[` + line("a", 1) + `]}`, "expiresAt"},
		"ttl and expires": {`{"ttl":"1m","expiresAt":"` + time.Now().Add(time.Hour).Format(time.RFC3339) + `","lines":[` + line("a", 1) + `]}`, "ttl"},
		"unknown field":   {`{"note":"x","lines":[` + line("a", 1) + `]}`, "note"},
		"unknown in line": {`{"lines":[{"locationId":"L","sku":"a","count":1,"x":1}]}`, "lines[0].x"},
		"bad id":          {`{"reservationId":"","lines":[` + line("a", 1) + `]}`, "reservationId"},
		"no sku":          {`{"lines":[{"locationId":"L","count":1}]}`, "lines[0].sku"},
	}
	for name, c := range cases {
		var body api.ErrorBody
		if code := postJSON(t, base, c.body, &body); code != http.StatusBadRequest || body.Field != c.field {
			t.Errorf("%s: %d %+v, want 400 naming %s", name, code, body, c.field)
		}
	}
	if n := storedEvents(t, sys); n != 0 {
		t.Fatalf("bad requests stored %d events", n)
	}
}

// The walkthrough of the README: reserve, confirm, fulfil, and a short
// cart that reserves nothing; positions answer onHand, reserved, sellable.
func TestReserveConfirmFulfilOverHTTP(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 2})
	sys.StartCalculator(t, nil, nil)
	base := sys.ServeAPI(t, slog.New(slog.DiscardHandler)).URL
	if code := postJSON(t, base+"/inventory/adjustment", `{"locationId":"STL","sku":"123123","count":100}`, nil); code != http.StatusCreated {
		t.Fatal(code)
	}
	position := func(onHand, reserved int64) {
		t.Helper()
		poll.Until(t, 5*time.Second, "position", func() error {
			resp, err := http.Get(base + "/inventory/locations/STL/skus/123123")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var p api.PositionResponse
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				return err
			}
			if p.OnHand != onHand || p.Reserved != reserved || p.Sellable != onHand-reserved || p.Count != p.Sellable {
				return fmt.Errorf("%+v, want onHand %d reserved %d", p, onHand, reserved)
			}
			return nil
		})
	}
	position(100, 0)
	var res api.ReservationResponse
	if code := postJSON(t, base+"/inventory/reservations", `{"reservationId":"cart-1","lines":[{"locationId":"STL","sku":"123123","count":30}]}`, &res); code != http.StatusCreated ||
		res.State != "active" || *res.Lines[0].Sellable != 70 {
		t.Fatalf("reserve: %d %+v", code, res)
	}
	position(100, 30)
	var short api.InsufficientStockBody
	if code := postJSON(t, base+"/inventory/reservations", `{"lines":[{"locationId":"STL","sku":"123123","count":71}]}`, &short); code != http.StatusConflict ||
		len(short.Lines) != 1 || short.Lines[0].Requested != 71 || short.Lines[0].Sellable != 70 {
		t.Fatalf("short cart: %d %+v", code, short)
	}
	if code := postJSON(t, base+"/inventory/reservations/cart-1/confirm", "", &res); code != http.StatusOK || res.State != "confirmed" {
		t.Fatalf("confirm: %d %+v", code, res)
	}
	if code := postJSON(t, base+"/inventory/reservations/cart-1/fulfil", "", &res); code != http.StatusOK || res.State != "fulfilled" {
		t.Fatalf("fulfil: %d %+v", code, res)
	}
	position(70, 0)
	var conflict api.TransitionBody
	if code := postJSON(t, base+"/inventory/reservations/cart-1/release", "", &conflict); code != http.StatusConflict || conflict.State != "fulfilled" {
		t.Fatalf("release after fulfil: %d %+v", code, conflict)
	}
}

func storedEvents(t *testing.T, sys *systemtest.System) uint64 {
	t.Helper()
	st, err := sys.JS.Stream(t.Context(), streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}
