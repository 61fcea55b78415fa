package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/command"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/readmodel"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Topology is what every program agrees on about the streams and buckets.
// It decides how they are created; once they exist, a program runs with
// what it finds and warns about differences (see internal/drift), and only
// `inventory admin apply` changes them.
type Topology struct {
	Partitions int
	Replicas   int
	// IdempotencyWindow is the event stream's duplicate window; zero is
	// streams.DefaultDuplicates.
	IdempotencyWindow time.Duration
	// MaxBytes and MaxAge limit the event stream; 0 is unlimited.
	MaxBytes int64
	MaxAge   time.Duration
}

// Streams is the streams' configuration for t.
func (t Topology) Streams(log *slog.Logger) streams.Config {
	cfg := streams.DefaultConfig()
	cfg.Partitions, cfg.Replicas = t.Partitions, t.Replicas
	cfg.MaxBytes, cfg.MaxAge = t.MaxBytes, t.MaxAge
	if t.IdempotencyWindow != 0 {
		cfg.Duplicates = t.IdempotencyWindow
	}
	cfg.Logger = log
	return cfg
}

// Buckets are the definitions of every shared bucket for t: the view's
// partitions, the calculators' leases and replay points, the registry.
func (t Topology) Buckets() []jetstream.KeyValueConfig {
	cfgs := kv.BucketConfigs(kv.Config{Partitions: t.Partitions, Replicas: t.Replicas})
	ccfg := calculator.DefaultConfig()
	ccfg.Partitions, ccfg.Replicas = t.Partitions, t.Replicas
	cfgs = append(cfgs, calculator.BucketConfigs(ccfg)...)
	return append(cfgs, registry.BucketConfig(t.registry(nil)), secretsBucketConfig(t.Replicas))
}

func (t Topology) registry(log *slog.Logger) registry.Config {
	rcfg := registry.DefaultConfig()
	rcfg.Replicas, rcfg.Logger = t.Replicas, log
	return rcfg
}

// EnsureStreams creates or checks the streams, waiting for JetStream to
// be reachable.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) error {
	cfg := t.Streams(log)
	if err := cfg.Validate(); err != nil {
		return err
	}
	return Retry(ctx, log, "ensure streams", func(ctx context.Context) error {
		return streams.Ensure(ctx, js, cfg)
	})
}

// OpenView opens the partition buckets, waiting for JetStream.
func OpenView(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) (*kv.Store, error) {
	var store *kv.Store
	err := Retry(ctx, log, "open kv buckets", func(ctx context.Context) error {
		var err error
		store, err = kv.Open(ctx, js, kv.Config{Partitions: t.Partitions, Replicas: t.Replicas, Logger: log})
		return err
	})
	return store, err
}

// Wire is how a program encodes and decodes messages: Avro with schemas
// from the registry, which lives in a JetStream bucket and so needs no
// server of its own; JSON is still read, for hand-published events.
type Wire struct {
	Registry *registry.Store
	Events   wire.EventCodec
	Decoders *wire.Codecs
	// IDKey turns idempotency keys into Nats-Msg-Ids (OpenIDKey,
	// command.WithIDKey); nil uses the keys as they are.
	IDKey []byte
}

// OpenRegistry opens the schema registry's bucket, waiting for JetStream.
func OpenRegistry(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) (*registry.Store, error) {
	rcfg := t.registry(log)
	var store *registry.Store
	err := Retry(ctx, log, "open schema registry", func(ctx context.Context) error {
		var err error
		store, err = registry.NewStore(ctx, js, rcfg)
		return err
	})
	return store, err
}

// OpenWire opens the registry bucket and registers (or finds) the
// schemas this version writes.
func OpenWire(ctx context.Context, js jetstream.JetStream, t Topology, log *slog.Logger) (Wire, error) {
	store, err := OpenRegistry(ctx, js, t, log)
	if err != nil {
		return Wire{}, err
	}
	events, decoders, err := wire.AvroCodecs(ctx, registry.Local{Store: store}, log)
	if err != nil {
		return Wire{}, err
	}
	return Wire{Registry: store, Events: events, Decoders: decoders}, nil
}

// Commands is the write side's service.
func Commands(js jetstream.JetStream, t Topology, w Wire) *command.Service {
	var opts []command.Option
	if w.IDKey != nil {
		opts = append(opts, command.WithIDKey(w.IDKey))
	}
	return command.NewService(js, w.Events, t.Partitions, opts...)
}

// CalculatorSettings are the settings of the programs that run a
// calculator instance, beyond the Topology every program shares.
type CalculatorSettings struct {
	// WriterCacheKeys bounds the view keys the instance caches, over all
	// partitions (calculator.Config.WriterCacheKeys).
	WriterCacheKeys int
	// ReadModelKeys bounds the positions the query API holds in memory
	// (readmodel.Config.MaxKeys).
	ReadModelKeys int
}

// DefaultCalculatorSettings are the calculator's defaults.
func DefaultCalculatorSettings() CalculatorSettings {
	return CalculatorSettings{WriterCacheKeys: calculator.DefaultWriterCacheKeys, ReadModelKeys: readmodel.DefaultMaxKeys}
}

// CalculatorFlags registers the calculator's settings.
func CalculatorFlags(f Flags) *CalculatorSettings {
	c := DefaultCalculatorSettings()
	f.IntVar(&c.WriterCacheKeys, "writer-cache-keys", "INVENTORY_WRITER_CACHE_KEYS", c.WriterCacheKeys,
		"view keys the calculator caches in memory, over all partitions (0: none)")
	f.IntVar(&c.ReadModelKeys, "read-model-keys", "INVENTORY_READ_MODEL_KEYS", c.ReadModelKeys,
		"positions the query API holds in memory, kept current by watching the view (0: none, every GET reads the bucket)")
	return &c
}

// NewCalculator builds a calculator instance over the view.
func NewCalculator(ctx context.Context, js jetstream.JetStream, store *kv.Store, t Topology, cs CalculatorSettings, w Wire, log *slog.Logger) (*calculator.Calculator, error) {
	cfg := calculator.DefaultConfig()
	cfg.Partitions, cfg.Replicas, cfg.Logger = t.Partitions, t.Replicas, log
	cfg.WriterCacheKeys = cs.WriterCacheKeys
	if err := cfg.Validate(); err != nil {
		return nil, err // a bad setting is not worth retrying
	}
	var calc *calculator.Calculator
	err := Retry(ctx, log, "start calculator", func(ctx context.Context) error {
		var err error
		calc, err = calculator.New(ctx, calculator.Deps{JS: js, Store: store, Events: w.Decoders}, cfg)
		return err
	})
	return calc, err
}

// OpenReadModel is the in-memory read model of the view for the query
// API, holding up to keys positions; Run starts its watches.
func OpenReadModel(ctx context.Context, js jetstream.JetStream, view *kv.Store, keys int, log *slog.Logger) (*readmodel.Model, error) {
	cfg := readmodel.DefaultConfig()
	cfg.Partitions, cfg.MaxKeys, cfg.Render, cfg.Logger = view.Partitions(), keys, api.PositionAnswer, log
	if err := cfg.Validate(); err != nil {
		return nil, err // a bad setting is not worth retrying
	}
	var m *readmodel.Model
	err := Retry(ctx, log, "open read model", func(ctx context.Context) error {
		var err error
		m, err = readmodel.New(ctx, js, view, cfg)
		return err
	})
	return m, err
}
