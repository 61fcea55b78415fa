package calculator

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/wire"
)

// Deps are what an instance works with, opened by the caller: Config
// holds settings, Deps the connection, the view and the event decoders.
// Every field is required, so a forgotten codec is an error at New rather
// than a calculator that quietly reads JSON only; JSONDeps names the
// JSON-only choice. There is no change codec: the view's own value is the
// change (kv.BucketConfig).
type Deps struct {
	JS jetstream.JetStream
	// Store is the view; it must have Config.Partitions partitions.
	Store *kv.Store
	// Events decodes stored events, by their Content-Type.
	Events *wire.Codecs
}

// JSONDeps reads events as JSON only: for tests and for a setup without
// a schema registry.
func JSONDeps(js jetstream.JetStream, store *kv.Store) Deps {
	return Deps{JS: js, Store: store, Events: wire.NewCodecs()}
}

// Validate reports every missing dependency.
func (d Deps) Validate() error {
	var errs []error
	if d.JS == nil {
		errs = append(errs, errors.New("calculator: jetstream is required"))
	}
	if d.Store == nil {
		errs = append(errs, errors.New("calculator: store is required"))
	}
	if d.Events == nil {
		errs = append(errs, errors.New("calculator: event codecs are required"))
	}
	return errors.Join(errs...)
}
