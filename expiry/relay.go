package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Expirer decides, on a reservation's current state as of its keys' last
// events, whether it expires, and appends its expiry if so; it returns
// only once the expiry is stored. It returns nil when there is nothing to
// do: no hold of d.ID on its keys (the schedule of an attempt that stored
// nothing), a reservation that is confirmed, released, fulfilled or
// already expired, or one whose own expiresAt is later than d.At (the
// schedule of another attempt under the same id; the reservation's own
// schedule fires later). Any error makes the relay try again.
type Expirer interface {
	Expire(ctx context.Context, d Due) error
}

// ConsumerName is the relay's durable consumer on the schedule stream.
// Every instance shares it, so each fired schedule goes to one of them.
const ConsumerName = "expiry-relay"

// Config tunes the relay.
type Config struct {
	// Workers is how many fired schedules are decided at once.
	Workers int
	// AckWait is how long a fired schedule may be in a worker's hands
	// before the server hands it to another instance: longer than an
	// expiry decision takes, including its wait for the view.
	AckWait time.Duration
	// Retry is the delay before a failed decision is tried again.
	Retry  time.Duration
	Logger *slog.Logger
}

// DefaultConfig decides 16 expiries at once.
func DefaultConfig() Config {
	return Config{Workers: 16, AckWait: 30 * time.Second, Retry: time.Second, Logger: slog.Default()}
}

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("expiry: workers %d must be at least 1", c.Workers))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("expiry: ack wait %v must be at least 1s", c.AckWait))
	}
	if c.Retry <= 0 {
		errs = append(errs, fmt.Errorf("expiry: retry delay %v must be positive", c.Retry))
	}
	return errors.Join(errs...)
}

// Relay turns fired expiry schedules into expiry decisions.
type Relay struct {
	cons    jetstream.Consumer
	expirer Expirer
	cfg     Config
	log     *slog.Logger
}

// ConsumerConfig is the relay's durable consumer.
func ConsumerConfig(c Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		Description:   "Turns fired reservation expiry schedules into expiry events",
		FilterSubject: streams.ScheduleDueFilter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait,
		MaxAckPending: 4 * c.Workers,
		// Redeliver forever: a fired schedule dropped is an expiry that
		// never happens.
		MaxDeliver: -1,
	}
}

// NewRelay creates or finds the relay's consumer.
func NewRelay(ctx context.Context, js jetstream.JetStream, e Expirer, cfg Config) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, streams.ScheduleStream, ConsumerConfig(cfg))
	if err != nil {
		return nil, fmt.Errorf("expiry: consumer %s: %w", ConsumerName, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Relay{cons: cons, expirer: e, cfg: cfg, log: log.With("component", "expiry-relay")}, nil
}

// Run relays fired schedules until ctx ends, then waits for the
// decisions under way; one cut off by ctx is redelivered.
func (r *Relay) Run(ctx context.Context) error {
	it, err := r.cons.Messages(jetstream.PullMaxMessages(2 * r.cfg.Workers))
	if err != nil {
		return fmt.Errorf("expiry: consume: %w", err)
	}
	go func() { <-ctx.Done(); it.Stop() }()
	work := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	for i := 0; i < r.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				r.handle(ctx, m)
			}
		}()
	}
	defer func() { close(work); wg.Wait() }()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			r.log.Warn("next fired schedule", "err", err)
			continue
		}
		select {
		case work <- m:
		case <-ctx.Done():
			return nil
		}
	}
}

// handle decides one fired schedule and acks it only after the decision
// is stored (or found to be nothing).
func (r *Relay) handle(ctx context.Context, m jetstream.Msg) {
	due, err := wire.DecodeExpiryDue(m.Data())
	if err != nil {
		// Only the service publishes on the schedule stream; a body it
		// cannot read never becomes readable, so it is dropped loudly.
		r.log.Error("dropping unreadable fired schedule", "subject", m.Subject(), "err", err)
		_ = m.Term()
		return
	}
	if err := r.expirer.Expire(ctx, fromWire(due)); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("expiry not decided, retrying", "reservation", due.ReservationID, "err", err)
		}
		_ = m.NakWithDelay(r.cfg.Retry)
		return
	}
	// DoubleAck: once it returns, the server has removed the fired
	// message, so a crash now cannot make it fire again.
	ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := m.DoubleAck(ackCtx); err != nil {
		r.log.Warn("ack fired schedule (it will be decided again)", "reservation", due.ReservationID, "err", err)
	}
}
