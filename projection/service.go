package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
)

// Service is the projection as a program runs it: a Reader for the query
// API, usable at once, and Run, which waits for the database, creates the
// schema and projects until its context ends.
type Service struct {
	js     jetstream.JetStream
	cfg    Config
	log    *slog.Logger
	store  atomic.Pointer[Store]
	reader *Reader
}

// New checks cfg; nothing is dialled before Run.
func New(js jetstream.JetStream, cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{js: js, cfg: cfg, log: cfg.logger()}
	s.reader = &Reader{store: &s.store}
	return s, nil
}

// Reader serves from the session Run holds; until Run has connected, and
// after it returned, it answers sellable.ErrUnavailable.
func (s *Service) Reader() *Reader { return s.reader }

// Connected is nil while Run holds a database session, and
// sellable.ErrUnavailable before Run has connected and after it returned:
// a readiness check.
func (s *Service) Connected(context.Context) error {
	if s.store.Load() == nil {
		return fmt.Errorf("projection: no database session: %w", sellable.ErrUnavailable)
	}
	return nil
}

// Run connects (retrying while no host answers), then projects until ctx
// ends, then closes the session. It returns nil on a clean stop.
func (s *Service) Run(ctx context.Context) error {
	store, err := s.connect(ctx)
	if ctx.Err() != nil {
		return nil // ended before the database came up
	}
	if err != nil {
		return err
	}
	s.store.Store(store)
	defer func() {
		s.store.Store(nil)
		store.Close()
	}()
	p, err := NewProjector(s.js, store, s.cfg)
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

func (s *Service) connect(ctx context.Context) (*Store, error) {
	wait := backoff{min: s.cfg.MinBackoff, max: 2 * time.Second}
	for {
		store, err := Connect(ctx, s.cfg)
		if err == nil {
			s.log.Info("projection connected", "hosts", s.cfg.Hosts, "keyspace", s.cfg.Keyspace)
			return store, nil
		}
		if !errors.Is(err, sellable.ErrUnavailable) {
			return nil, err // a setting the database refuses: retrying will not help
		}
		d := wait.step()
		s.log.Warn("projection: database not ready, retrying", "err", err, "in", d)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
}
