// Command schema-registry serves the Confluent-compatible schema registry
// API from a JetStream KV bucket on an external NATS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/registry"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, os.Args[1:]); err != nil {
		log.Error("schema-registry stopped", "err", err)
		os.Exit(1)
	}
}

type config struct {
	natsURL  string
	httpAddr string
	registry registry.Config
}

func parseFlags(args []string) (config, error) {
	c := config{registry: registry.DefaultConfig()}
	replicas, err := envInt("INVENTORY_REPLICAS", c.registry.Replicas)
	if err != nil {
		return c, err
	}
	fs := flag.NewFlagSet("schema-registry", flag.ContinueOnError)
	fs.StringVar(&c.natsURL, "nats-url", envString("NATS_URL", "nats://127.0.0.1:4222"), "NATS server URL(s) [NATS_URL]")
	fs.StringVar(&c.httpAddr, "http-addr", envString("REGISTRY_HTTP_ADDR", "127.0.0.1:8081"), "HTTP listen address [REGISTRY_HTTP_ADDR]")
	fs.IntVar(&c.registry.Replicas, "replicas", replicas, "replicas of the registry KV bucket [INVENTORY_REPLICAS]")
	fs.StringVar(&c.registry.Bucket, "bucket", envString("REGISTRY_BUCKET", c.registry.Bucket), "registry KV bucket [REGISTRY_BUCKET]")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, c.registry.Validate()
}

func envString(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) (int, error) {
	v, ok := os.LookupEnv(key)
	if !ok || v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: %w", key, v, err)
	}
	return n, nil
}

func run(log *slog.Logger, args []string) error {
	cfg, err := parseFlags(args)
	if err != nil {
		return err
	}
	cfg.registry.Logger = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	nc, err := nats.Connect(cfg.natsURL,
		nats.Name("schema-registry"),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	)
	if err != nil {
		return fmt.Errorf("connect %s: %w", cfg.natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, log, js, cfg.registry)
	if err != nil {
		return err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	registry.NewHandler(store, log).Register(e)
	srv := &http.Server{Addr: cfg.httpAddr, Handler: e, ReadHeaderTimeout: 10 * time.Second}

	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("schema registry listening", "addr", cfg.httpAddr, "nats", cfg.natsURL, "bucket", cfg.registry.Bucket)

	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	if err := nc.Drain(); err != nil {
		return fmt.Errorf("nats drain: %w", err)
	}
	return nil
}

// openStore retries until JetStream answers, so the registry may start
// before NATS does.
func openStore(ctx context.Context, log *slog.Logger, js jetstream.JetStream, cfg registry.Config) (*registry.Store, error) {
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		store, err := registry.NewStore(attemptCtx, js, cfg)
		cancel()
		if err == nil {
			return store, nil
		}
		log.Warn("registry bucket not ready, retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open registry: %w", errors.Join(err, ctx.Err()))
		case <-time.After(time.Second):
		}
	}
}
