package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/internal/poll"
)

var quiet = slog.New(slog.DiscardHandler)

// serve runs the house server through app.ServeListener with limits and
// returns its address; slow is a handler that takes 300 ms to answer.
func serve(t *testing.T, limits app.HTTPLimits) string {
	t.Helper()
	e := api.NewServer(quiet)
	e.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	})
	e.GET("/slow", func(c echo.Context) error {
		time.Sleep(300 * time.Millisecond) // a handler slower than the write timeout
		return c.String(http.StatusOK, "late")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.ServeListener(ctx, e, ln, limits, quiet) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}

// long is a limit the test never reaches.
const long = time.Minute

func limits(readHeader, read, write, idle time.Duration, conns int) app.HTTPLimits {
	return app.HTTPLimits{ReadHeaderTimeout: readHeader, ReadTimeout: read, WriteTimeout: write, IdleTimeout: idle, MaxConns: conns}
}

// closedWithin keeps writing a byte at a time (as a slow client does)
// until the server closes the connection, and fails if it has not done
// so within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, drip string) {
	t.Helper()
	start := time.Now()
	poll.Until(t, d, "server closes the connection", func() error {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		var b [512]byte
		for {
			_, err := c.Read(b[:])
			if errors.Is(err, io.EOF) || (err != nil && !isTimeout(err)) {
				return nil // closed (or reset) by the server
			}
			if err != nil {
				break
			}
		}
		if drip != "" {
			if _, err := io.WriteString(c, drip); err != nil {
				return nil
			}
		}
		return errors.New("still open")
	})
	t.Logf("closed after %v", time.Since(start).Round(time.Millisecond))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestHeadersSentByteByByteAreCutOff(t *testing.T) {
	addr := serve(t, limits(200*time.Millisecond, long, long, long, 16))
	c := dial(t, addr)
	_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	closedWithin(t, c, 10*time.Second, "X")
}

func TestEndlessChunkedBodyIsCutOff(t *testing.T) {
	addr := serve(t, limits(long, 300*time.Millisecond, long, long, 16))
	c := dial(t, addr)
	_, _ = io.WriteString(c, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	closedWithin(t, c, 10*time.Second, "1\r\nx\r\n")
}

func TestIdleKeepAliveIsClosed(t *testing.T) {
	addr := serve(t, limits(long, long, long, 200*time.Millisecond, 16))
	c := dial(t, addr)
	_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	closedWithin(t, c, 10*time.Second, "") // answers, then waits idle
}

func TestSlowAnswerIsCutOffByTheWriteTimeout(t *testing.T) {
	addr := serve(t, limits(long, long, 100*time.Millisecond, long, 16))
	resp, err := http.Get("http://" + addr + "/slow")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("answer past the write timeout delivered: %d %q", resp.StatusCode, b)
	}
}

// Past the cap a connection waits to be accepted; it is served once
// another one closes.
func TestConnectionsAreCapped(t *testing.T) {
	addr := serve(t, limits(long, long, long, long, 2))
	get := func(c net.Conn, wait time.Duration) error {
		_ = c.SetDeadline(time.Now().Add(wait))
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		var b [512]byte
		n, err := c.Read(b[:])
		if err == nil && !strings.HasPrefix(string(b[:n]), "HTTP/1.1 200") {
			t.Fatalf("answer %q", b[:n])
		}
		return err
	}
	c1, c2, c3 := dial(t, addr), dial(t, addr), dial(t, addr)
	for _, c := range []net.Conn{c1, c2} {
		if err := get(c, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if err := get(c3, 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("third connection over a cap of 2: %v, want no answer yet", err)
	}
	c1.Close()
	_ = c3.SetDeadline(time.Now().Add(5 * time.Second))
	var b [512]byte
	if n, err := c3.Read(b[:]); err != nil || !strings.HasPrefix(string(b[:n]), "HTTP/1.1 200") {
		t.Fatalf("third connection after one closed: %q %v", b[:n], err)
	}
}

func TestHTTPLimitsValidate(t *testing.T) {
	if err := app.DefaultHTTPLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	bad := app.DefaultHTTPLimits()
	bad.ReadTimeout, bad.MaxConns = 0, 0
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "read timeout") || !strings.Contains(err.Error(), "max connections") {
		t.Fatalf("Validate = %v", err)
	}
}
