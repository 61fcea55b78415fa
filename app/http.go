package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/netutil"
)

// HTTPLimits bound what one client can hold of an HTTP server: without
// them an idle keep-alive connection or a chunked body that never ends
// holds a goroutine and a file descriptor forever.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds the wait for a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the headers to the
	// end of the answer.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration
	// MaxConns caps the connections served at once; more wait to be
	// accepted.
	MaxConns int
}

// DefaultHTTPLimits fit the API: bodies are at most 785 KiB and every
// handler answers within a few seconds (a publish waits 2 s at most).
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxConns:          4096,
	}
}

// Validate reports every limit that is not positive.
func (l HTTPLimits) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"read header timeout": l.ReadHeaderTimeout, "read timeout": l.ReadTimeout,
		"write timeout": l.WriteTimeout, "idle timeout": l.IdleTimeout,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("app: http %s %v must be positive", name, d))
		}
	}
	if l.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("app: http max connections %d must be at least 1", l.MaxConns))
	}
	return errors.Join(errs...)
}

// HTTPFlags registers the HTTP limits on f.
func HTTPFlags(f Flags) *HTTPLimits {
	l := DefaultHTTPLimits()
	f.DurationVar(&l.ReadHeaderTimeout, "http-read-header-timeout", "INVENTORY_HTTP_READ_HEADER_TIMEOUT", l.ReadHeaderTimeout, "longest wait for a request's headers")
	f.DurationVar(&l.ReadTimeout, "http-read-timeout", "INVENTORY_HTTP_READ_TIMEOUT", l.ReadTimeout, "longest time to read a whole request")
	f.DurationVar(&l.WriteTimeout, "http-write-timeout", "INVENTORY_HTTP_WRITE_TIMEOUT", l.WriteTimeout, "longest time to answer a request")
	f.DurationVar(&l.IdleTimeout, "http-idle-timeout", "INVENTORY_HTTP_IDLE_TIMEOUT", l.IdleTimeout, "idle keep-alive connections are closed after this")
	f.IntVar(&l.MaxConns, "http-max-conns", "INVENTORY_HTTP_MAX_CONNS", l.MaxConns, "most HTTP connections served at once, per listener")
	return &l
}

// Serve runs e on addr until ctx ends, then shuts it down gracefully.
func Serve(ctx context.Context, e *echo.Echo, addr string, limits HTTPLimits, log *slog.Logger) error {
	return serve(ctx, e, addr, limits, nil, log)
}

// serve is Serve, over TLS when tlsCfg is set.
func serve(ctx context.Context, e *echo.Echo, addr string, limits HTTPLimits, tlsCfg *tls.Config, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log.Info("http listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	return ServeListenerTLS(ctx, e, ln, limits, tlsCfg, log)
}

// ServeListener is Serve on a listener the caller opened; it closes ln.
func ServeListener(ctx context.Context, e *echo.Echo, ln net.Listener, limits HTTPLimits, log *slog.Logger) error {
	return ServeListenerTLS(ctx, e, ln, limits, nil, log)
}

// ServeListenerTLS is ServeListener serving HTTPS when tlsCfg is set.
// The handshake counts against the read-header timeout, as net/http
// bounds it, so a client that stalls it is cut off like a slow header.
func ServeListenerTLS(ctx context.Context, e *echo.Echo, ln net.Listener, limits HTTPLimits, tlsCfg *tls.Config, log *slog.Logger) error {
	if err := limits.Validate(); err != nil {
		ln.Close()
		return err
	}
	s := e.Server
	s.ReadHeaderTimeout, s.ReadTimeout = limits.ReadHeaderTimeout, limits.ReadTimeout
	s.WriteTimeout, s.IdleTimeout = limits.WriteTimeout, limits.IdleTimeout
	e.Listener = netutil.LimitListener(ln, limits.MaxConns)
	if tlsCfg != nil {
		// Capped first: a connection waiting for its handshake holds a
		// place like any other.
		e.Listener = tls.NewListener(e.Listener, tlsCfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- e.Start("") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
