package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/natsauth"
)

// Connect dials NATS and keeps reconnecting for as long as the process
// lives: a lost server is a pause, not a crash. extra options come last,
// e.g. nats.InProcessServer for an embedded server.
func Connect(url, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			// err is nil when we close or drain the connection ourselves:
			// a clean shutdown, not a lost server.
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("nats reconnected", "url", c.ConnectedUrl())
		}),
		// A permission the program's NATS role lacks shows only here: the
		// request itself just times out.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrPermissionViolation) {
				log.Error("nats refused: the NATS user lacks a permission (README, Running it securely)", "err", err)
				return
			}
			log.Warn("nats", "err", err)
		}),
	}
	nc, err := nats.Connect(url, append(opts, extra...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("app: connect %s: %w", url, err)
	}
	// An async publish whose ack is lost (its server died after storing
	// or before answering) would otherwise never complete, and the
	// calculator partition waiting on it would stall without an error;
	// with a timeout it fails and restarts from its checkpoint.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("app: jetstream: %w", err)
	}
	return nc, js, nil
}

// Retry runs fn until it succeeds or ctx ends, backing off up to 2s: at
// start a service may come up before its NATS server.
func Retry(ctx context.Context, log *slog.Logger, what string, fn func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		log.Warn("retrying", "what", what, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("app: %s: %w (last error: %w)", what, ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// NATSAuthFlags registers the settings of a NATS client's credentials and
// TLS into c.
func NATSAuthFlags(f Flags, c *natsauth.ClientConfig) {
	f.StringVar(&c.Creds, "nats-creds", "NATS_CREDS", "", "NATS .creds file (user JWT and seed), for a server in operator mode")
	f.StringVar(&c.NKeySeed, "nats-nkey-seed", "NATS_NKEY_SEED", "", "file holding the NATS user's nkey seed (inventory admin nats-users writes one per role)")
	f.StringVar(&c.User, "nats-user", "NATS_USER", "", "NATS user name, with NATS_PASSWORD")
	f.StringVar(&c.Password, "nats-password", "NATS_PASSWORD", "", "NATS user's password (prefer the environment to the flag)")
	f.StringVar(&c.CAFile, "nats-ca", "NATS_CA", "", "CA certificates (PEM) that sign the NATS server's: requires TLS and verifies the server")
	f.StringVar(&c.CertFile, "nats-tls-cert", "NATS_TLS_CERT", "", "client certificate (PEM) for a NATS server that verifies its clients")
	f.StringVar(&c.KeyFile, "nats-tls-key", "NATS_TLS_KEY", "", "the client certificate's key (PEM)")
	f.StringVar(&c.InboxPrefix, "nats-inbox-prefix", "NATS_INBOX_PREFIX", natsauth.InboxPrefix(natsauth.Admin),
		"where NATS replies come back; each role may read only its own (defaults: each program its role's)")
}

// programRoles are the NATS roles the programs run as, whose inbox
// prefix (natsauth.InboxPrefix) is their default.
var programRoles = map[string]natsauth.Role{
	"mutator":          natsauth.Mutator,
	"calculator":       natsauth.Calculator,
	"sellable-service": natsauth.Projector,
	"schema-registry":  natsauth.Registry,
}

// defaultInbox makes the inbox prefix of program name's role the default
// of f's --nats-inbox-prefix.
func defaultInbox(f Flags, c *natsauth.ClientConfig, name string) {
	r, ok := programRoles[name]
	if !ok {
		return
	}
	c.InboxPrefix = natsauth.InboxPrefix(r)
	f.Lookup("nats-inbox-prefix").DefValue = c.InboxPrefix
}
