package wire

import (
	"bytes"
	"context"
	_ "embed" // the .avsc schemas
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"golang.org/x/sync/singleflight"

	"github.com/sellable/inventory/sellable"
)

// ContentTypeAvro marks a body in the Confluent wire format.
//
// # Avro wire format
//
// Decided once for every Avro message on inventory subjects (the events;
// the sellable changes are the view's JSON values):
//
//   - The body is the Confluent wire format: byte 0x00 (magic), the schema
//     id as a 4-byte big-endian unsigned integer, then the Avro binary
//     encoding of the record written with that schema. Any Confluent or
//     hamba/avro registry-aware consumer can read it.
//   - The message also carries the header Content-Type:
//     application/vnd.confluent.avro. Codecs picks the codec by this header
//     alone, so JSON and Avro are never guessed from the bytes. A message
//     without the header is JSON, which is what `nats pub` sends.
//
// Writer schemas are registered in the schema registry under
// TopicNameStrategy-like subjects, the subject prefix of the message
// followed by "-value": SubjectAdjustments, SubjectReservations and
// those of a cart reservation's lines. A reader fetches the writer schema
// by the id in the prefix and resolves it against its own (reader) schema, so a record
// written with any registered version decodes, whether the writer is older
// (reader fields missing: defaults) or newer (unknown fields: skipped).
//
// The kind of an event comes from the subject it is stored on; an Avro
// body whose record (Adjustment or Reservation) names the other kind is
// rejected with ErrMismatch. KV values stay JSON.
const ContentTypeAvro = "application/vnd.confluent.avro"

// Registry subjects of the inventory schemas.
const (
	SubjectAdjustments  = "inventory.adjustments-value"
	SubjectReservations = "inventory.reservations-value"
	// The lines of cart reservations.
	SubjectHolds       = "inventory.holds-value"
	SubjectReleases    = "inventory.releases-value"
	SubjectFulfilments = "inventory.fulfilments-value"
	SubjectExpiries    = "inventory.expiries-value"
)

// Full names of the records in the embedded schemas; a writer schema must
// have one of them to be resolved against a reader.
const (
	avroNameAdjustment  = "com.sellable.inventory.Adjustment"
	avroNameReservation = "com.sellable.inventory.Reservation"
)

//go:embed schemas/adjustment.avsc
var adjustmentAvsc string

//go:embed schemas/reservation.avsc
var reservationAvsc string

//go:embed schemas/hold.avsc
var holdAvsc string

//go:embed schemas/release.avsc
var releaseAvsc string

//go:embed schemas/fulfilment.avsc
var fulfilmentAvsc string

//go:embed schemas/expiry.avsc
var expiryAvsc string

// Schemas returns the embedded schema texts by registry subject.
func Schemas() map[string]string {
	return map[string]string{
		SubjectAdjustments:  adjustmentAvsc,
		SubjectReservations: reservationAvsc,
		SubjectHolds:        holdAvsc,
		SubjectReleases:     releaseAvsc,
		SubjectFulfilments:  fulfilmentAvsc,
		SubjectExpiries:     expiryAvsc,
	}
}

// SchemaSubject is the registry subject of the schema of events of kind k.
func SchemaSubject(k sellable.Kind) string {
	switch k {
	case sellable.Adjustment:
		return SubjectAdjustments
	case sellable.Reservation:
		return SubjectReservations
	case sellable.Hold:
		return SubjectHolds
	case sellable.Release:
		return SubjectReleases
	case sellable.Fulfilment:
		return SubjectFulfilments
	case sellable.Expiry:
		return SubjectExpiries
	}
	return ""
}

// embedded is the embedded schemas, parsed once.
var embedded = sync.OnceValues(func() (map[string]avro.Schema, error) {
	out := make(map[string]avro.Schema, 3)
	for subject, text := range Schemas() {
		s, err := parseAvro(text)
		if err != nil {
			return nil, fmt.Errorf("wire: embedded schema %s: %w", subject, err)
		}
		out[subject] = s
	}
	return out, nil
})

// parseAvro parses with a cache of its own, so that no schema can resolve
// a name that only another, unrelated schema defined (hamba's default
// cache is global).
func parseAvro(text string) (avro.Schema, error) {
	return avro.ParseWithCache(text, "", &avro.SchemaCache{})
}

// SchemaRegistry is what the Avro codecs need of a schema registry:
// registry.Local adapts an in-process registry.Store, registry.Client
// speaks Confluent's HTTP API.
type SchemaRegistry interface {
	// Register adds schema to subject unless it is there already, and
	// returns its global id. A refusal wraps ErrSchemaRejected.
	Register(ctx context.Context, subject, schema string) (id int, err error)
	// SchemaByID returns the schema text with id, or an error wrapping
	// ErrSchemaNotFound.
	SchemaByID(ctx context.Context, id int) (string, error)
}

// AvroConfig sets up the Avro codecs. The zero value is ready to use.
type AvroConfig struct {
	// AdjustmentSchema and ReservationSchema replace the
	// embedded schemas as writer and reader schema when set: for tests and
	// tools that need another version. Record names must stay the same.
	AdjustmentSchema  string
	ReservationSchema string
	// FetchTimeout bounds one registry lookup of a writer schema not seen
	// before, within the decoding caller's context. Zero means
	// DefaultFetchTimeout.
	FetchTimeout time.Duration
	// Bounds limits the writer schemas messages are decoded with; a
	// message written with a schema out of bounds is refused with
	// ErrDecode (see SchemaBounds). Zero fields take the defaults.
	Bounds SchemaBounds
	// MaxBodyBytes refuses a longer Avro body with ErrDecode; it also
	// bounds every string or bytes value. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int
	// MaxValues bounds how many values (fields, items, map entries,
	// union branches, down to each null) one body may hold, which with
	// MaxBodyBytes bounds the time a decode takes. Zero means
	// DefaultMaxValues.
	MaxValues int
}

// Defaults of AvroConfig.
const (
	DefaultFetchTimeout = 5 * time.Second
	// DefaultMaxBodyBytes is NATS's default maximum payload.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxValues is ten thousand times what an event holds and
	// still decodes in about a millisecond.
	DefaultMaxValues = 1 << 16
)

// Validate reports settings out of range.
func (c AvroConfig) Validate() error {
	var errs []error
	if c.FetchTimeout < 0 {
		errs = append(errs, fmt.Errorf("wire: avro fetch timeout %v must not be negative", c.FetchTimeout))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("wire: avro max body bytes %d must not be negative", c.MaxBodyBytes))
	}
	if c.MaxValues < 0 {
		errs = append(errs, fmt.Errorf("wire: avro max values %d must not be negative", c.MaxValues))
	}
	errs = append(errs, c.Bounds.Validate())
	return errors.Join(errs...)
}

func (c AvroConfig) withDefaults() AvroConfig {
	if c.FetchTimeout == 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxValues == 0 {
		c.MaxValues = DefaultMaxValues
	}
	c.Bounds = c.Bounds.withDefaults()
	return c
}

func (c AvroConfig) schema(subject string) (avro.Schema, string, error) {
	text := map[string]string{
		SubjectAdjustments:  c.AdjustmentSchema,
		SubjectReservations: c.ReservationSchema,
	}[subject]
	if text == "" {
		all, err := embedded()
		if err != nil {
			return nil, "", err
		}
		return all[subject], Schemas()[subject], nil
	}
	s, err := parseAvro(text)
	if err != nil {
		return nil, "", fmt.Errorf("wire: schema for %s: %w", subject, err)
	}
	return s, text, nil
}

// prefixLen is the length of the Confluent wire-format prefix.
const prefixLen = 5

func confluentPrefix(id int) [prefixLen]byte {
	var p [prefixLen]byte
	binary.BigEndian.PutUint32(p[1:], uint32(id))
	return p
}

// schemaID splits a Confluent wire-format body.
func schemaID(data []byte) (int, []byte, error) {
	if len(data) < prefixLen {
		return 0, nil, fmt.Errorf("%w: avro: %d bytes, shorter than the %d-byte schema prefix", ErrDecode, len(data), prefixLen)
	}
	if data[0] != 0 {
		return 0, nil, fmt.Errorf("%w: avro: magic byte %#02x, want 0x00", ErrDecode, data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:prefixLen])), data[prefixLen:], nil
}

// writer is one schema this process writes with.
type writer struct {
	schema avro.Schema
	id     int
	prefix [prefixLen]byte
}

// reader is what a writer schema id resolves to: the reader schema
// adjusted to the writer's, the writer schema (which the body walk
// follows), and which record it is. err, when set, is a permanent
// failure (the id names an unreadable schema or one out of bounds),
// cached as such: the verdict on an id is reached once.
type reader struct {
	name   string
	kind   sellable.Kind
	schema avro.Schema
	writer avro.Schema
	err    error
}

// schemaSet registers writer schemas and resolves writer schema ids
// against reader schemas, caching every id it has seen.
type schemaSet struct {
	reg SchemaRegistry
	cfg AvroConfig // with defaults
	// readers by record full name.
	readers map[string]reader
	byID    sync.Map // int -> *reader
	fetch   singleflight.Group
	// pool holds hamba readers configured with the byte and element
	// limits of cfg.
	pool sync.Pool // *avro.Reader
}

func newSchemaSet(reg SchemaRegistry, cfg AvroConfig) (*schemaSet, error) {
	if reg == nil {
		return nil, errors.New("wire: avro codec needs a schema registry")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	api := avro.Config{
		MaxByteSliceSize:  cfg.MaxBodyBytes,
		MaxSliceAllocSize: cfg.MaxValues,
	}.Freeze()
	s := &schemaSet{reg: reg, cfg: cfg, readers: map[string]reader{}}
	s.pool.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(api)) }
	return s, nil
}

// add registers the writer schema of subject, which is also the reader
// schema of its record, and returns it with its id.
func (s *schemaSet) add(ctx context.Context, cfg AvroConfig, subject string, kind sellable.Kind) (writer, error) {
	sch, text, err := cfg.schema(subject)
	if err != nil {
		return writer{}, err
	}
	// A schema this codec writes must be one it would read.
	if err := s.cfg.Bounds.Check(text); err != nil {
		return writer{}, fmt.Errorf("wire: schema for %s: %w", subject, err)
	}
	named, ok := sch.(avro.NamedSchema)
	if !ok || sch.Type() != avro.Record {
		return writer{}, fmt.Errorf("wire: schema for %s is not a record", subject)
	}
	id, err := s.reg.Register(ctx, subject, text)
	if err != nil {
		return writer{}, fmt.Errorf("wire: register schema %s: %w", subject, err)
	}
	if id < 1 || int64(id) > math.MaxUint32 {
		return writer{}, fmt.Errorf("wire: register schema %s: id %d out of range", subject, id)
	}
	r := reader{name: named.FullName(), kind: kind, schema: sch, writer: sch}
	s.readers[r.name] = r
	s.byID.Store(id, &r)
	return writer{schema: sch, id: id, prefix: confluentPrefix(id)}, nil
}

// reader returns the reader for data written with schema id, asking the
// registry within ctx for a schema not seen before.
func (s *schemaSet) reader(ctx context.Context, id int) (*reader, error) {
	if r, ok := s.byID.Load(id); ok {
		return r.(*reader).check()
	}
	v, err, _ := s.fetch.Do(strconv.Itoa(id), func() (any, error) {
		if r, ok := s.byID.Load(id); ok {
			return r, nil
		}
		// Shared by the callers waiting on the same id: the first one's
		// context bounds the lookup, and if it ends the others get
		// ErrRegistry and retry.
		ctx, cancel := context.WithTimeout(ctx, s.cfg.FetchTimeout)
		defer cancel()
		text, err := s.reg.SchemaByID(ctx, id)
		if errors.Is(err, ErrSchemaNotFound) {
			// Not cached: in a cluster the registry's KV may lag behind a
			// producer that has just registered the id.
			return nil, fmt.Errorf("%w: avro: unknown schema id %d: %w", ErrDecode, id, ErrSchemaNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: schema id %d: %w", ErrRegistry, id, err)
		}
		r := s.resolve(id, text)
		s.byID.Store(id, r)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*reader).check()
}

func (r *reader) check() (*reader, error) {
	if r.err != nil {
		return nil, r.err
	}
	return r, nil
}

// resolve builds the reader for writer schema text registered as id. The
// schema is checked against the bounds before hamba builds anything for
// it: some schemas crash the process as soon as a decoder is built.
func (s *schemaSet) resolve(id int, text string) *reader {
	w, err := s.cfg.Bounds.parse(text)
	if err != nil {
		return &reader{err: fmt.Errorf("%w: avro: schema id %d: %w", ErrDecode, id, err)}
	}
	named, ok := w.(avro.NamedSchema)
	if !ok || w.Type() != avro.Record {
		return &reader{err: fmt.Errorf("%w: avro: schema id %d is a %s, not an inventory record", ErrDecode, id, w.Type())}
	}
	r, ok := s.readers[named.FullName()]
	if !ok {
		return &reader{err: fmt.Errorf("%w: avro: schema id %d is %s, which this codec does not read", ErrDecode, id, named.FullName())}
	}
	r.writer = w
	if w.Fingerprint() == r.schema.Fingerprint() {
		return &r
	}
	res, err := avro.NewSchemaCompatibility().Resolve(r.schema, w)
	if err != nil {
		return &reader{err: fmt.Errorf("%w: avro: schema id %d cannot be read as %s: %v", ErrDecode, id, r.name, err)}
	}
	r.schema = res
	return &r
}

// avroWriters pools hamba writers over byte slices.
var avroWriters = sync.Pool{New: func() any { return avro.NewWriter(nil, 128) }}

// encode writes prefix and v in schema's Avro encoding into a new slice.
func encode(w writer, v any) ([]byte, error) {
	aw := avroWriters.Get().(*avro.Writer)
	defer func() {
		aw.Error = nil
		avroWriters.Put(aw)
	}()
	aw.Reset(nil)
	_, _ = aw.Write(w.prefix[:])
	aw.WriteVal(w.schema, v)
	if aw.Error != nil {
		return nil, aw.Error
	}
	return bytes.Clone(aw.Buffer()), nil
}

// decode reads v from body, all of it, with the resolved schema, once
// the body has been walked within the limits.
func (s *schemaSet) decode(r *reader, id int, body []byte, v any) error {
	if len(body) > s.cfg.MaxBodyBytes {
		return fmt.Errorf("%w: avro: %s (schema id %d): body of %d bytes, limit %d", ErrDecode, r.name, id, len(body), s.cfg.MaxBodyBytes)
	}
	w := bodyWalk{data: body, values: s.cfg.MaxValues}
	if err := w.value(r.writer); err != nil {
		return fmt.Errorf("%w: avro: %s (schema id %d): %w (limits: %d bytes, %d values)",
			ErrDecode, r.name, id, err, s.cfg.MaxBodyBytes, s.cfg.MaxValues)
	}
	ar := s.pool.Get().(*avro.Reader)
	defer func() {
		ar.Error = nil
		ar.Reset(nil)
		s.pool.Put(ar)
	}()
	ar.Reset(body)
	ar.ReadVal(r.schema, v)
	if ar.Error != nil {
		return fmt.Errorf("%w: avro: %s (schema id %d): %v", ErrDecode, r.name, id, ar.Error)
	}
	// A resolved schema consumes every byte the writer wrote; more means
	// the body is not what its prefix says.
	if ar.Peek(); ar.Error == nil {
		return fmt.Errorf("%w: avro: %s (schema id %d): trailing bytes", ErrDecode, r.name, id)
	}
	return nil
}

// avroEvent is the Go side of the Adjustment and Reservation records.
type avroEvent struct {
	LocationID string  `avro:"locationId"`
	SKU        string  `avro:"sku"`
	Count      int64   `avro:"count"`
	EventID    *string `avro:"eventId"`
	Source     *string `avro:"source"`
	// ReservationID is only in the schemas of a cart reservation's line
	// events; the seed's two schemas leave it empty.
	ReservationID string `avro:"reservationId"`
	// Reason and Reference are in the Adjustment record from version 2
	// on; the Reservation record has neither, and hamba skips them.
	Reason    *string `avro:"reason"`
	Reference *string `avro:"reference"`
}

// AvroEvents is the EventCodec for Avro event bodies in the Confluent
// wire format (see ContentTypeAvro). It writes with the schemas it
// registered on construction and reads any registered version of them.
// It is safe for concurrent use.
type AvroEvents struct {
	set     *schemaSet
	writers map[sellable.Kind]writer
}

// NewAvroEvents registers the adjustment and reservation schemas (a
// schema already registered keeps its id) and returns a codec writing
// with them.
func NewAvroEvents(ctx context.Context, reg SchemaRegistry, cfg AvroConfig) (*AvroEvents, error) {
	set, err := newSchemaSet(reg, cfg)
	if err != nil {
		return nil, err
	}
	a := &AvroEvents{set: set, writers: make(map[sellable.Kind]writer, len(sellable.Kinds))}
	for _, k := range sellable.Kinds {
		w, err := set.add(ctx, cfg, SchemaSubject(k), k)
		if err != nil {
			return nil, err
		}
		a.writers[k] = w
	}
	if _, ok := set.readers[avroNameAdjustment]; !ok {
		return nil, fmt.Errorf("wire: adjustment schema must be named %s", avroNameAdjustment)
	}
	if _, ok := set.readers[avroNameReservation]; !ok {
		return nil, fmt.Errorf("wire: reservation schema must be named %s", avroNameReservation)
	}
	return a, nil
}

// ContentType is application/vnd.confluent.avro.
func (*AvroEvents) ContentType() string { return ContentTypeAvro }

// SchemaID is the registry id of the schema events of kind k are written with.
func (a *AvroEvents) SchemaID(k sellable.Kind) int { return a.writers[k].id }

// EncodeEvent writes e with its kind's schema, in the Confluent wire format.
func (a *AvroEvents) EncodeEvent(e sellable.Event) ([]byte, error) {
	w, ok := a.writers[e.Kind]
	if !ok {
		return nil, fmt.Errorf("wire: avro: no schema for event kind %v", e.Kind)
	}
	sc := avroScratches.Get().(*avroScratch)
	sc.ev = avroEvent{LocationID: e.Key.LocationID, SKU: e.Key.SKU, Count: e.Count, ReservationID: e.ReservationID}
	sc.reason, sc.reference, sc.source = string(e.Reason), e.Reference, e.Source
	if sc.reason != "" {
		sc.ev.Reason = &sc.reason
	}
	if sc.reference != "" {
		sc.ev.Reference = &sc.reference
	}
	if sc.source != "" {
		sc.ev.Source = &sc.source
	}
	b, err := encode(w, &sc.ev)
	*sc = avroScratch{} // keep no strings of the event alive in the pool
	avroScratches.Put(sc)
	if err != nil {
		return nil, fmt.Errorf("wire: avro: encode %v: %w", e.Kind, err)
	}
	return b, nil
}

// avroScratch is an event's record and the strings its optional fields
// point to, pooled: built per event, the record and each pointer were
// an allocation of every command's encode.
type avroScratch struct {
	ev                        avroEvent
	reason, reference, source string
}

var avroScratches = sync.Pool{New: func() any { return new(avroScratch) }}

// DecodeEvent reads an Adjustment or Reservation record written with any
// registered version of its schema, asking the registry within ctx for a
// writer schema not seen before. Errors about the bytes or the writer
// schema wrap ErrDecode; a registry that cannot be reached gives
// ErrRegistry.
func (a *AvroEvents) DecodeEvent(ctx context.Context, data []byte) (Body, error) {
	b, _, err := a.decode(ctx, data)
	return b, err
}

// avroEvents pools the records events are decoded into: DecodeStored
// copies what it keeps out of one before it goes back.
var avroEvents = sync.Pool{New: func() any { return new(avroEvent) }}

// decodeStored is DecodeEvent and eventOf in one, for an event stored as
// kind: a record of the other kind is refused, since Avro bodies name
// their kind (the record of the writer schema).
func (a *AvroEvents) decodeStored(ctx context.Context, kind sellable.Kind, key sellable.Key, data []byte) (sellable.Event, error) {
	ev := avroEvents.Get().(*avroEvent)
	defer avroEvents.Put(ev)
	*ev = avroEvent{}
	k, err := a.decodeInto(ctx, data, ev)
	if err != nil {
		return sellable.Event{}, err
	}
	if k != kind {
		return sellable.Event{}, fmt.Errorf("%w: %v record on %v subject", ErrMismatch, k, kind)
	}
	return eventOf(kind, key, ev.body())
}

func (a *AvroEvents) decode(ctx context.Context, data []byte) (Body, sellable.Kind, error) {
	ev := new(avroEvent)
	k, err := a.decodeInto(ctx, data, ev)
	if err != nil {
		return Body{}, 0, err
	}
	return ev.body(), k, nil
}

// decodeInto reads data into ev, which must be zero, and says which kind
// of record it was.
func (a *AvroEvents) decodeInto(ctx context.Context, data []byte, ev *avroEvent) (sellable.Kind, error) {
	id, body, err := schemaID(data)
	if err != nil {
		return 0, err
	}
	r, err := a.set.reader(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := a.set.decode(r, id, body, ev); err != nil {
		return 0, err
	}
	return r.kind, nil
}

// body points into ev: it is valid only as long as ev is not reused.
func (ev *avroEvent) body() Body {
	return Body{
		LocationID:    &ev.LocationID,
		SKU:           &ev.SKU,
		Count:         sellable.Quantity{Value: ev.Count, Set: true},
		Source:        ev.Source,
		ReservationID: ev.ReservationID,
		Reason:        ev.Reason,
		Reference:     ev.Reference,
	}
}
