package calculator

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/wire"
)

// Deps are what an instance works with, opened by the caller: Config
// holds settings, Deps the connection, the view and the wire formats.
// Every field is required, so a forgotten codec is an error at New rather
// than a calculator that quietly writes JSON; JSONDeps names the JSON-only
// choice.
type Deps struct {
	JS jetstream.JetStream
	// Store is the view; it must have Config.Partitions partitions.
	Store *kv.Store
	// Events decodes stored events, by their Content-Type.
	Events *wire.Codecs
	// Changes encodes the sellable changes the instance announces.
	Changes *wire.ChangeCodec
}

// JSONDeps reads events and writes changes as JSON only: for tests and
// for a setup without a schema registry.
func JSONDeps(js jetstream.JetStream, store *kv.Store) Deps {
	return Deps{JS: js, Store: store, Events: wire.NewCodecs(), Changes: wire.NewChangeCodec(nil)}
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
	if d.Changes == nil {
		errs = append(errs, errors.New("calculator: change codec is required (JSONDeps for JSON only)"))
	}
	return errors.Join(errs...)
}
