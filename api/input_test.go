package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
)

// raw sends request bytes as they are over one TCP connection, then
// half-closes it, and reads the answer: what a broken or hostile client
// does, which net/http's client would not.
func (s *stack) raw(t *testing.T, request string) (int, map[string]any) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to %q: %v", request, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestCutShortAndBadlyChunkedBodiesGet400(t *testing.T) {
	s := newStack(t)
	head := func(path, hdr string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + hdr + "\r\n"
	}
	for _, path := range []string{"/inventory/adjustment", "/inventory/batch"} {
		cases := map[string]string{
			"cut short":        head(path, "Content-Length: 100\r\n") + `{"locationId":"STL"`,
			"bad chunk length": head(path, "Transfer-Encoding: chunked\r\n") + "zz\r\n{}\r\n0\r\n\r\n",
			"chunk cut short":  head(path, "Transfer-Encoding: chunked\r\n") + "40\r\n{\"locationId\"",
			"no last chunk":    head(path, "Transfer-Encoding: chunked\r\n") + "2\r\n{}\r\n",
		}
		for name, req := range cases {
			status, body := s.raw(t, req)
			if status != http.StatusBadRequest || body["field"] != "body" {
				t.Errorf("%s %s: %d %v, want 400 naming body", path, name, status, body)
			}
		}
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("broken bodies stored %d events", n)
	}
}

// Two different inputs must never become one key: encoding/json turns
// invalid UTF-8 and lone surrogates into U+FFFD, and C1 controls are
// control characters the README refuses.
func TestInvalidUTF8AndC1ControlsGet400NamingTheField(t *testing.T) {
	s := newStack(t)
	cases := []struct{ path, body, field string }{
		{"/inventory/adjustment", "{\"locationId\":\"a\xffb\",\"sku\":\"1\",\"count\":1}", "locationId"},
		{"/inventory/adjustment", "{\"locationId\":\"STL\",\"sku\":\"a\xfeb\",\"count\":1}", "sku"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"a\ud800b","count":1}`, "sku"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"a\udc00\ud800","count":1}`, "sku"},
		{"/inventory/adjustment", `{"locationId":"STL","sku":"a\u0085b","count":1}`, "sku"},
		{"/inventory/adjustment", "{\"locationId\":\"STL\",\"sku\":\"a\xc2\x85b\",\"count\":1}", "sku"},
		{"/inventory/reservation", `{"locationId":"a\u009fb","sku":"1","count":1}`, "locationId"},
		{"/inventory/adjustment", "{\"locationId\":\"STL\",\"sku\":\"1\",\"count\":1,\"x\xff\":1}", "body"},
		{"/inventory/batch", "{\"commands\":[{\"type\":\"adjustment\",\"locationId\":\"a\xffb\",\"sku\":\"1\",\"count\":1}]}", "commands[0].locationId"},
		{"/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"STL","sku":"a\u0085","count":1}]}`, "commands[0].sku"},
		{"/inventory/batch", `{"commands":[{"type":"adjust\ud800","locationId":"STL","sku":"1","count":1}]}`, "commands[0].type"},
	}
	for _, c := range cases {
		status, body := s.do(t, http.MethodPost, c.path, c.body)
		if status != http.StatusBadRequest || body["field"] != c.field {
			t.Errorf("POST %s %q: %d %v, want 400 naming %s", c.path, c.body, status, body, c.field)
		}
	}
	// Escapes that are text stay text: U+FFFD itself, a surrogate pair,
	// a no-break space.
	for _, sku := range []string{`\ufffd`, `\ud83d\ude00`, `\u00a0x`} {
		body := `{"locationId":"STL","sku":"` + sku + `","count":1}`
		if status, out := s.do(t, http.MethodPost, "/inventory/adjustment", body); status != http.StatusCreated {
			t.Errorf("POST %s: %d %v", body, status, out)
		}
	}
	// The same bytes in a path: neither parameter check refuses them
	// (TestPositionCheckAgreesWithTheDocument), the key does.
	for _, path := range []string{"/inventory/locations/STL/skus/a%ffb", "/inventory/locations/a%fe/skus/1"} {
		status, body := s.do(t, http.MethodGet, path, "")
		if status != http.StatusBadRequest || body["field"] == nil {
			t.Errorf("GET %s: %d %v, want 400 naming the field", path, status, body)
		}
	}
	if n := s.storedEvents(t); n != 3 {
		t.Fatalf("stored %d events, want the 3 valid ones", n)
	}
}

func TestDuplicateKeysGet400NamingTheKey(t *testing.T) {
	s := newStack(t)
	cases := []struct{ path, body, field string }{
		{"/inventory/adjustment", `{"locationId":"A","locationId":"B","sku":"1","count":1}`, "locationId"},
		{"/inventory/adjustment", `{"locationId":"A","sku":"1","count":1,"count":-1}`, "count"},
		{"/inventory/adjustment", `{"locationId":"A","sku":"1","count":1,"note":1,"note":2}`, "note"},
		{"/inventory/adjustment", `{"locationId":"A","sku":"1","count":1,"s\u006bu":"2"}`, "sku"},
		{"/inventory/batch", `{"commands":[{"type":"adjustment","type":"reservation","locationId":"A","sku":"1","count":1}]}`, "commands[0].type"},
		{"/inventory/batch", `{"commands":[{"type":"adjustment","locationId":"A","sku":"1","count":1}],"commands":[]}`, "commands"},
	}
	for _, c := range cases {
		status, body := s.do(t, http.MethodPost, c.path, c.body)
		if status != http.StatusBadRequest || body["field"] != c.field {
			t.Errorf("POST %s %s: %d %v, want 400 naming %s", c.path, c.body, status, body, c.field)
		}
	}
	if n := s.storedEvents(t); n != 0 {
		t.Fatalf("stored %d events", n)
	}
}

// A count is spelled as JSON spells an integer, bare or in a string.
func TestCountsHaveOneSpelling(t *testing.T) {
	s := newStack(t)
	for _, count := range []string{`"+5"`, `"05"`, `"-05"`, `" 5"`, `"5 "`, `"0x5"`, `"5_0"`, `"+0"`} {
		body := `{"locationId":"STL","sku":"spell","count":` + count + `}`
		status, out := s.do(t, http.MethodPost, "/inventory/adjustment", body)
		if status != http.StatusBadRequest || out["field"] != "count" {
			t.Errorf("count %s: %d %v, want 400 naming count", count, status, out)
		}
	}
	for _, count := range []string{`5`, `"5"`, `-5`, `"-5"`} {
		body := `{"locationId":"STL","sku":"spell","count":` + count + `}`
		if status, out := s.do(t, http.MethodPost, "/inventory/adjustment", body); status != http.StatusCreated {
			t.Errorf("count %s: %d %v", count, status, out)
		}
	}
}

// The limits are KiB, as documented, and the largest batch the README
// allows fits: 500 commands whose 128-byte identifiers a client's JSON
// encoder escaped byte by byte.
func TestBodyLimitsFitTheLargestValidRequests(t *testing.T) {
	s := newStack(t)
	one := `{"locationId":"STL","sku":"limit","count":1}`
	exact := one + strings.Repeat(" ", int(api.MaxBodyBytes)-len(one))
	if status, out := s.do(t, http.MethodPost, "/inventory/adjustment", exact); status != http.StatusCreated {
		t.Fatalf("a body of exactly %d bytes: %d %v", api.MaxBodyBytes, status, out)
	}
	if status, out := s.do(t, http.MethodPost, "/inventory/adjustment", exact+" "); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body of %d bytes: %d %v", api.MaxBodyBytes+1, status, out)
	}

	id := strings.Repeat("<", sellable.MaxIDLength) // json.Marshal writes each as \u003c
	type cmd struct {
		Type       string `json:"type"`
		LocationID string `json:"locationId"`
		SKU        string `json:"sku"`
		Count      string `json:"count"`
	}
	cmds := make([]cmd, api.MaxBatch)
	for i := range cmds {
		cmds[i] = cmd{"reservation", id, id, "1"}
	}
	cmds[0] = cmd{"adjustment", id, id, "1000000000"}
	big, _ := json.Marshal(map[string]any{"commands": cmds})
	if int64(len(big)) > api.MaxBatchBodyBytes || !bytes.Contains(big, []byte(`\u003c`)) {
		t.Fatalf("largest batch is %d bytes, limit %d", len(big), api.MaxBatchBodyBytes)
	}
	status, out := s.do(t, http.MethodPost, "/inventory/batch", string(big))
	if status != http.StatusCreated || len(out["results"].([]any)) != api.MaxBatch {
		t.Fatalf("largest batch (%d bytes): %d %v", len(big), status, out["error"])
	}
	over := `{"commands":[` + strings.Repeat(" ", int(api.MaxBatchBodyBytes)) + `]}`
	if status, out := s.do(t, http.MethodPost, "/inventory/batch", over); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("batch over the limit: %d %v", status, out)
	}
	if n := s.storedEvents(t); n != 1+api.MaxBatch {
		t.Fatalf("stored %d events, want %d", n, 1+api.MaxBatch)
	}
}

// Every query path serves one time format: RFC 3339, UTC, milliseconds,
// which is what Scylla keeps.
func TestUpdatedAtIsRFC3339Milliseconds(t *testing.T) {
	s := newStack(t)
	s.do(t, http.MethodPost, "/inventory/adjustment", `{"locationId":"STL","sku":"time","count":3}`)
	got := s.waitCount(t, "STL", "time", 3)
	at, _ := got["updatedAt"].(string)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(at) {
		t.Fatalf("updatedAt %q is not RFC 3339 with milliseconds in UTC", at)
	}
	if ts, err := time.Parse(time.RFC3339, at); err != nil || time.Since(ts) > time.Minute || time.Since(ts) < -time.Minute {
		t.Fatalf("updatedAt %q: %v", at, err)
	}
}

// A client that hangs up is not an outage: no WARN with a 503, one quiet
// line saying what happened.
func TestClientCancellationIsNotLoggedAsAnOutage(t *testing.T) {
	logs := logtest.New()
	s := newStackLog(t, logs.Logger())
	s.sys.Shutdown() // a publish now waits for its ack until the client gives up
	s.sys.WaitForShutdown()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.http.URL+"/inventory/adjustment",
		strings.NewReader(`{"locationId":"STL","sku":"gone","count":1}`))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered %d before the client gave up", resp.StatusCode)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the cancellation logged", func() error {
		if !strings.Contains(logs.String(), "client canceled request") {
			return fmt.Errorf("log: %q", logs.String())
		}
		return nil
	})
	if l := logs.String(); strings.Contains(l, "level=WARN") || strings.Contains(l, "status=503") || !strings.Contains(l, "level=DEBUG") {
		t.Fatalf("log: %q", l)
	}
}
