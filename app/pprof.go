package app

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"golang.org/x/net/netutil"
)

// ServePprof serves Go's profiler on addr until ctx ends, when addr is
// set: an operator's switch (INVENTORY_PPROF_ADDR), off by default and
// kept off the API listener.
func ServePprof(ctx context.Context, addr string, log *slog.Logger) {
	if addr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// A CPU profile or trace streams for its ?seconds= (30 s by default),
	// so writes get longer than the API's; reads and idle time do not.
	srv := &http.Server{
		Addr: addr, Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Warn("pprof", "err", err)
		return
	}
	go func() {
		log.Info("pprof listening", "addr", addr)
		// A handful of operators at a time is plenty for a profiler.
		if err := srv.Serve(netutil.LimitListener(ln, 16)); err != nil && err != http.ErrServerClosed {
			log.Warn("pprof", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
}
