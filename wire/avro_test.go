package wire_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newStore is a real registry on a fresh embedded server.
func newStore(t testing.TB) (*natstest.Server, *registry.Store) {
	t.Helper()
	s := natstest.Start(t)
	store, err := registry.NewStore(testCtx(t), s.JS, registry.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

// serveStore serves store over Confluent's HTTP API, as the
// schema-registry program does.
func serveStore(t testing.TB, store *registry.Store) *httptest.Server {
	t.Helper()
	e := echo.New()
	registry.NewHandler(store, nil).Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv
}

// registries are the two ways a codec reaches the registry: in-process
// on the Store, and over HTTP with hamba's client.
var registries = []struct {
	name string
	open func(t testing.TB, store *registry.Store) wire.SchemaRegistry
}{
	{"store", func(t testing.TB, store *registry.Store) wire.SchemaRegistry {
		return registry.Local{Store: store}
	}},
	{"http", func(t testing.TB, store *registry.Store) wire.SchemaRegistry {
		c, err := registry.NewClient(serveStore(t, store).URL)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}},
}

func newCodecs(t testing.TB, reg wire.SchemaRegistry, cfg wire.AvroConfig) *wire.AvroEvents {
	t.Helper()
	ev, err := wire.NewAvroEvents(testCtx(t), reg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func avroHeader() nats.Header {
	return nats.Header{streams.HeaderContentType: []string{wire.ContentTypeAvro}}
}

// storedSubject is where the stream stores an event of kind on key.
func storedSubject(kind sellable.Kind, k sellable.Key) string {
	kindTok := map[sellable.Kind]string{sellable.Adjustment: "adjustments", sellable.Reservation: "reservations"}[kind]
	return "inventory." + kindTok + ".0." + streams.KeyToken(k)
}

func TestAvroThroughStreams(t *testing.T) {
	for _, r := range registries {
		t.Run(r.name, func(t *testing.T) {
			ctx := testCtx(t)
			s, store := newStore(t)
			evs := newCodecs(t, r.open(t, store), wire.AvroConfig{})
			codecs := wire.NewCodecs(evs)
			cfg := streams.DefaultConfig()
			if err := streams.Ensure(ctx, s.JS, cfg); err != nil {
				t.Fatal(err)
			}
			stream, err := s.JS.Stream(ctx, streams.EventStream)
			if err != nil {
				t.Fatal(err)
			}
			events := []sellable.Event{
				{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "123123"}, Count: 100},
				{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "123123"}, Count: -sellable.MaxCount},
				{Kind: sellable.Reservation, Key: sellable.Key{LocationID: "a.b c", SKU: "ü*>"}, Count: 7},
			}
			for _, e := range events {
				data, err := evs.EncodeEvent(e)
				if err != nil {
					t.Fatal(err)
				}
				if data[0] != 0 || int(binary.BigEndian.Uint32(data[1:5])) != evs.SchemaID(e.Kind) {
					t.Fatalf("prefix % x, want schema id %d", data[:5], evs.SchemaID(e.Kind))
				}
				m := nats.NewMsg(streams.EventSubject(e.Kind, e.Key))
				m.Data = data
				m.Header.Set(streams.HeaderContentType, evs.ContentType())
				ack, err := s.JS.PublishMsg(ctx, m)
				if err != nil {
					t.Fatal(err)
				}
				stored, err := stream.GetMsg(ctx, ack.Sequence)
				if err != nil {
					t.Fatal(err)
				}
				got, p, err := codecs.DecodeStored(ctx, stored.Subject, stored.Header, stored.Data)
				if err != nil {
					t.Fatal(err)
				}
				if got != e || p != streams.Partition(e.Key, cfg.Partitions) {
					t.Fatalf("decoded %+v in partition %d, want %+v in %d", got, p, e, streams.Partition(e.Key, cfg.Partitions))
				}
			}

			// JSON keeps working on the same subjects, without a header.
			e := events[0]
			ack, err := s.JS.Publish(ctx, streams.EventSubject(e.Kind, e.Key), []byte(`{"count":"5"}`))
			if err != nil {
				t.Fatal(err)
			}
			stored, err := stream.GetMsg(ctx, ack.Sequence)
			if err != nil {
				t.Fatal(err)
			}
			if got, _, err := codecs.DecodeStored(ctx, stored.Subject, stored.Header, stored.Data); err != nil || got.Count != 5 {
				t.Fatalf("json = %+v, %v", got, err)
			}
		})
	}
}

// Golden bodies: a fixed record encodes to exactly the bytes in
// testdata/. A failure means the wire format changed; if that is
// intended, run `go test ./wire -run Golden -update` and review.
func TestAvroGolden(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	evs := newCodecs(t, registry.Local{Store: store}, wire.AvroConfig{})
	key := sellable.Key{LocationID: "STL", SKU: "123123"}
	cases := []struct {
		file   string
		id     int
		encode func() ([]byte, error)
		check  func(data []byte) error
	}{
		{"adjustment.avro", evs.SchemaID(sellable.Adjustment),
			func() ([]byte, error) {
				return evs.EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 100,
					Reason: sellable.ReasonReceived, Reference: "PO-4711"})
			},
			func(data []byte) error {
				b, err := evs.DecodeEvent(ctx, data)
				if err == nil && (*b.LocationID != "STL" || *b.SKU != "123123" || b.Count.Value != 100 ||
					b.Reason == nil || *b.Reason != "received" || b.Reference == nil || *b.Reference != "PO-4711") {
					err = errors.New("wrong body")
				}
				return err
			}},
		{"reservation.avro", evs.SchemaID(sellable.Reservation),
			func() ([]byte, error) {
				return evs.EncodeEvent(sellable.Event{Kind: sellable.Reservation, Key: key, Count: 10})
			},
			func(data []byte) error {
				b, err := evs.DecodeEvent(ctx, data)
				if err == nil && (*b.LocationID != "STL" || *b.SKU != "123123" || b.Count.Value != 10) {
					err = errors.New("wrong body")
				}
				return err
			}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := c.encode()
			if err != nil {
				t.Fatal(err)
			}
			if want := binary.BigEndian.AppendUint32([]byte{0}, uint32(c.id)); !bytes.Equal(data[:5], want) {
				t.Fatalf("prefix % x, want % x", data[:5], want)
			}
			path := filepath.Join("testdata", c.file)
			if *update {
				if err := os.WriteFile(path, data[5:], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data[5:], golden) {
				t.Fatalf("body % x\ngolden % x", data[5:], golden)
			}
			if err := c.check(append(data[:5:5], golden...)); err != nil {
				t.Fatalf("golden does not decode: %v", err)
			}
		})
	}
}

// withField is schema with one more field, inserted after the field
// named after (mid-record, so that an old reader must skip it).
func withField(t testing.TB, schema, after string, field map[string]any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(schema), &m); err != nil {
		t.Fatal(err)
	}
	var fields []any
	for _, f := range m["fields"].([]any) {
		fields = append(fields, f)
		if f.(map[string]any)["name"] == after {
			fields = append(fields, field)
		}
	}
	m["fields"] = fields
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func optionalString(name string) map[string]any {
	return map[string]any{"name": name, "type": []any{"null", "string"}, "default": nil, "doc": "added in v2"}
}

// adjustmentV2 is what a newer producer writes.
type adjustmentV2 struct {
	LocationID string  `avro:"locationId"`
	SKU        string  `avro:"sku"`
	Note       *string `avro:"note"`
	Count      int64   `avro:"count"`
	EventID    *string `avro:"eventId"`
	Source     *string `avro:"source"`
}

// reservationV2 is a newer producer's Reservation, evolved with
// Adjustment in one AvroConfig: each record resolves on its own.
type reservationV2 struct {
	LocationID string  `avro:"locationId"`
	SKU        string  `avro:"sku"`
	Count      int64   `avro:"count"`
	Warehouse  *string `avro:"warehouse"`
	EventID    *string `avro:"eventId"`
	Source     *string `avro:"source"`
}

func framed(t testing.TB, id int, schema string, v any) []byte {
	t.Helper()
	sch, err := avro.ParseWithCache(schema, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatal(err)
	}
	body, err := avro.Marshal(sch, v)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(id)), body...)
}

// Version 1 is the embedded schemas; version 2 adds an optional field.
// Readers of either version read writers of either version, as the
// calculator must while producers roll forward or back.
func TestAvroEvolution(t *testing.T) {
	for _, r := range registries {
		t.Run(r.name, func(t *testing.T) {
			ctx := testCtx(t)
			_, store := newStore(t)
			reg := r.open(t, store)
			evsV1 := newCodecs(t, reg, wire.AvroConfig{})
			all := wire.Schemas()
			adjV2 := withField(t, all[wire.SubjectAdjustments], "sku", optionalString("note"))
			resV2 := withField(t, all[wire.SubjectReservations], "count", optionalString("warehouse"))
			evsV2 := newCodecs(t, reg, wire.AvroConfig{AdjustmentSchema: adjV2, ReservationSchema: resV2})
			if evsV2.SchemaID(sellable.Adjustment) == evsV1.SchemaID(sellable.Adjustment) || evsV2.SchemaID(sellable.Reservation) == evsV1.SchemaID(sellable.Reservation) {
				t.Fatal("v2 got v1's schema id")
			}
			if v, err := store.Versions(ctx, wire.SubjectAdjustments); err != nil || len(v) != 2 {
				t.Fatalf("versions = %v, %v", v, err)
			}
			codecsV1, codecsV2 := wire.NewCodecs(evsV1), wire.NewCodecs(evsV2)
			key := sellable.Key{LocationID: "STL", SKU: "123123"}
			subject := storedSubject(sellable.Adjustment, key)
			want := sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 12}

			// Older writer, newer reader: note takes its default.
			old, err := evsV1.EncodeEvent(want)
			if err != nil {
				t.Fatal(err)
			}
			if got, _, err := codecsV2.DecodeStored(ctx, subject, avroHeader(), old); err != nil || got != want {
				t.Fatalf("v1 under reader v2 = %+v, %v", got, err)
			}

			// Newer writer with the new field set, older reader: skipped.
			note, src := "hello", "wms"
			newer := framed(t, evsV2.SchemaID(sellable.Adjustment), adjV2,
				&adjustmentV2{LocationID: "STL", SKU: "123123", Note: &note, Count: 12, Source: &src})
			// The source, a field of both versions, is read.
			wantSrc := want
			wantSrc.Source = src
			if got, _, err := codecsV1.DecodeStored(ctx, subject, avroHeader(), newer); err != nil || got != wantSrc {
				t.Fatalf("v2 under reader v1 = %+v, %v", got, err)
			}
			// And the v2 codec's own encoding reads back under both.
			own, err := evsV2.EncodeEvent(want)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range []*wire.Codecs{codecsV1, codecsV2} {
				if got, _, err := c.DecodeStored(ctx, subject, avroHeader(), own); err != nil || got != want {
					t.Fatalf("v2 own encoding under reader v%d = %+v, %v", i+1, got, err)
				}
			}

			// The second schema of the same config, both ways.
			res := sellable.Event{Kind: sellable.Reservation, Key: key, Count: 7}
			resSubject := storedSubject(sellable.Reservation, key)
			oldRes, err := evsV1.EncodeEvent(res)
			if err != nil {
				t.Fatal(err)
			}
			if got, _, err := codecsV2.DecodeStored(ctx, resSubject, avroHeader(), oldRes); err != nil || got != res {
				t.Fatalf("reservation v1 under reader v2 = %+v, %v", got, err)
			}
			wh := "north"
			newRes := framed(t, evsV2.SchemaID(sellable.Reservation), resV2,
				&reservationV2{LocationID: "STL", SKU: "123123", Count: 7, Warehouse: &wh})
			if got, _, err := codecsV1.DecodeStored(ctx, resSubject, avroHeader(), newRes); err != nil || got != res {
				t.Fatalf("reservation v2 under reader v1 = %+v, %v", got, err)
			}

			// A version the registry refuses is an error at construction.
			bad := withField(t, all[wire.SubjectAdjustments], "count",
				map[string]any{"name": "required", "type": "string", "doc": "no default: breaks BACKWARD"})
			_, err = wire.NewAvroEvents(ctx, reg, wire.AvroConfig{AdjustmentSchema: bad})
			if !errors.Is(err, wire.ErrSchemaRejected) {
				t.Fatalf("incompatible v3 = %v, want ErrSchemaRejected", err)
			}
		})
	}
}

func TestAvroBadMessages(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	reg := registry.Local{Store: store}
	evs := newCodecs(t, reg, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)

	key := sellable.Key{LocationID: "STL", SKU: "123123"}
	adjSubject := storedSubject(sellable.Adjustment, key)
	good, err := evs.EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: key, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	reservation, err := evs.EncodeEvent(sellable.Event{Kind: sellable.Reservation, Key: key, Count: 5})
	if err != nil {
		t.Fatal(err)
	}
	withID := func(id int, body []byte) []byte {
		return append(binary.BigEndian.AppendUint32([]byte{0}, uint32(id)), body...)
	}
	// An unrelated record, and an Adjustment whose count is a string:
	// both registered, neither readable as an event.
	otherID, err := reg.Register(ctx, "other-value", `{"type":"record","name":"Other","fields":[{"name":"x","type":"long"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	stringCount := `{"type":"record","name":"Adjustment","namespace":"com.sellable.inventory","fields":[
		{"name":"locationId","type":"string"},{"name":"sku","type":"string"},{"name":"count","type":"string"}]}`
	stringCountID, err := reg.Register(ctx, "elsewhere-value", stringCount)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(good)
	flipped[0] = 1

	cases := []struct {
		name   string
		header nats.Header
		data   []byte
		want   error
	}{
		{"empty", avroHeader(), nil, wire.ErrDecode},
		{"shorter than the prefix", avroHeader(), []byte{0, 0, 0}, wire.ErrDecode},
		{"missing magic byte", avroHeader(), flipped, wire.ErrDecode},
		{"json body with avro header", avroHeader(), []byte(`{"count":5}`), wire.ErrDecode},
		{"unknown schema id", avroHeader(), withID(999999, good[5:]), wire.ErrDecode},
		{"schema id 0", avroHeader(), withID(0, good[5:]), wire.ErrDecode},
		{"truncated in the last field", avroHeader(), good[:len(good)-1], wire.ErrDecode},
		{"truncated in a string", avroHeader(), good[:8], wire.ErrDecode},
		{"prefix only", avroHeader(), good[:5], wire.ErrDecode},
		{"trailing bytes", avroHeader(), append(bytes.Clone(good), 0), wire.ErrDecode},
		{"string length beyond the body", avroHeader(), withID(evs.SchemaID(sellable.Adjustment), []byte{0x7e, 'a'}), wire.ErrDecode},
		{"unrelated schema", avroHeader(), framed(t, otherID, `{"type":"record","name":"Other","fields":[{"name":"x","type":"long"}]}`, map[string]any{"x": int64(1)}), wire.ErrDecode},
		{"unresolvable version", avroHeader(), framed(t, stringCountID, stringCount, map[string]any{"locationId": "STL", "sku": "123123", "count": "100"}), wire.ErrDecode},
		{"reservation record on an adjustment subject", avroHeader(), reservation, wire.ErrMismatch},
		{"avro without the header", nil, good, wire.ErrDecode},
		{"json count of the wrong type", nil, []byte(`{"count":true}`), wire.ErrDecode},
		{"json sku of the wrong type", nil, []byte(`{"sku":5,"count":1}`), wire.ErrDecode},
		{"unknown content type", nats.Header{streams.HeaderContentType: []string{"text/plain"}}, good, wire.ErrDecode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := codecs.DecodeStored(ctx, adjSubject, c.header, c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if errors.Is(err, wire.ErrRegistry) {
				t.Fatalf("bad message reported as a registry failure: %v", err)
			}
		})
	}

}

// A registry that cannot be reached is not the message's fault: the error
// says so instead of claiming the message is undecodable.
func TestAvroRegistryUnavailable(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	srv := serveStore(t, store)
	client, err := registry.NewClient(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := wire.NewAvroEvents(ctx, client, wire.AvroConfig{FetchTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// Another producer registers v2 and writes with it; this process has
	// not seen that id yet when the registry goes away.
	adjV2 := withField(t, wire.Schemas()[wire.SubjectAdjustments], "sku", optionalString("note"))
	sv, err := store.Register(ctx, wire.SubjectAdjustments, adjV2)
	if err != nil {
		t.Fatal(err)
	}
	msg := framed(t, sv.ID, adjV2, &adjustmentV2{LocationID: "STL", SKU: "1", Count: 3})
	own, err := evs.EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "1"}, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	_, err = evs.DecodeEvent(ctx, msg)
	if !errors.Is(err, wire.ErrRegistry) || errors.Is(err, wire.ErrDecode) {
		t.Fatalf("err = %v, want ErrRegistry and not ErrDecode", err)
	}
	// Its own schemas need no registry.
	if b, err := evs.DecodeEvent(ctx, own); err != nil || b.Count.Value != 3 {
		t.Fatalf("own schema = %+v, %v", b, err)
	}
}

// Many partitions decode a writer schema they have not seen at once.
func TestAvroConcurrentFirstDecode(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	evs := newCodecs(t, registry.Local{Store: store}, wire.AvroConfig{})
	adjV2 := withField(t, wire.Schemas()[wire.SubjectAdjustments], "sku", optionalString("note"))
	sv, err := store.Register(ctx, wire.SubjectAdjustments, adjV2)
	if err != nil {
		t.Fatal(err)
	}
	note := "x"
	msg := framed(t, sv.ID, adjV2, &adjustmentV2{LocationID: "STL", SKU: "1", Note: &note, Count: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			b, err := evs.DecodeEvent(ctx, msg)
			if err == nil && (b.Count.Value != 3 || *b.SKU != "1") {
				err = errors.New("wrong body")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestAvroConfigValidate(t *testing.T) {
	_, store := newStore(t)
	ctx := testCtx(t)
	if _, err := wire.NewAvroEvents(ctx, registry.Local{Store: store}, wire.AvroConfig{FetchTimeout: -1}); err == nil {
		t.Fatal("negative timeout accepted")
	}
	if _, err := wire.NewAvroEvents(ctx, nil, wire.AvroConfig{}); err == nil {
		t.Fatal("nil registry accepted")
	}
	if _, err := wire.NewAvroEvents(ctx, registry.Local{Store: store}, wire.AvroConfig{ReservationSchema: `{"type":"string"}`}); err == nil {
		t.Fatal("non-record schema accepted")
	}
	if _, err := wire.NewAvroEvents(ctx, registry.Local{Store: store},
		wire.AvroConfig{AdjustmentSchema: `{"type":"record","name":"Renamed","fields":[{"name":"count","type":"long"}]}`}); err == nil {
		t.Fatal("renamed record accepted")
	}
}

func TestAvroCodecs(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	evs, codecs, err := wire.AvroCodecs(ctx, registry.Local{Store: store}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := sellable.Event{Kind: sellable.Reservation, Key: sellable.Key{LocationID: "STL", SKU: "9"}, Count: 4}
	data, err := evs.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := codecs.DecodeStored(ctx, storedSubject(e.Kind, e.Key), avroHeader(), data); err != nil || got != e {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	// A registry refusing the schemas fails at once instead of retrying.
	reg := rejecting{registry.Local{Store: store}}
	if _, _, err := wire.AvroCodecs(ctx, reg, nil); !errors.Is(err, wire.ErrSchemaRejected) {
		t.Fatalf("err = %v, want ErrSchemaRejected", err)
	}
}

// rejecting registers the reservation schema with a required field added,
// which the subject's BACKWARD compatibility refuses.
type rejecting struct{ registry.Local }

func (r rejecting) Register(ctx context.Context, subject, schema string) (int, error) {
	if subject != wire.SubjectReservations {
		return r.Local.Register(ctx, subject, schema)
	}
	var m map[string]any
	_ = json.Unmarshal([]byte(schema), &m)
	m["fields"] = append(m["fields"].([]any), map[string]any{"name": "required", "type": "long"})
	b, _ := json.Marshal(m)
	return r.Local.Register(ctx, subject, string(b))
}

var benchEvent = sellable.Event{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "123123"}, Count: 100}

func benchCodecs(b *testing.B) map[string]wire.EventCodec {
	_, store := newStore(b)
	evs := newCodecs(b, registry.Local{Store: store}, wire.AvroConfig{})
	return map[string]wire.EventCodec{"avro": evs, "json": wire.JSON{}}
}

func BenchmarkEncodeEvent(b *testing.B) {
	codecs := benchCodecs(b)
	for _, name := range []string{"avro", "json"} {
		c := codecs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.EncodeEvent(benchEvent); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	ctx := b.Context()
	codecs := benchCodecs(b)
	for _, name := range []string{"avro", "json"} {
		c := codecs[name]
		data, err := c.EncodeEvent(benchEvent)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.DecodeEvent(ctx, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSourceRoundTrips: the source an event carries (who sent its
// command) survives both codecs, and an event without one is encoded as
// before (the golden bytes stay those of an event without a source).
func TestSourceRoundTrips(t *testing.T) {
	ctx := testCtx(t)
	_, store := newStore(t)
	evs := newCodecs(t, registry.Local{Store: store}, wire.AvroConfig{})
	codecs := wire.NewCodecs(evs)
	e := sellable.Event{Kind: sellable.Adjustment, Key: sellable.Key{LocationID: "STL", SKU: "9"}, Count: 4, Source: "wms-eu"}
	for _, c := range []wire.EventCodec{evs, wire.JSON{}} {
		data, err := c.EncodeEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		h := nats.Header{}
		h.Set("Content-Type", c.ContentType())
		if got, _, err := codecs.DecodeStored(ctx, storedSubject(e.Kind, e.Key), h, data); err != nil || got != e {
			t.Fatalf("%s: decoded %+v, %v", c.ContentType(), got, err)
		}
	}
	if b, _ := (wire.JSON{}).EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: e.Key, Count: 4}); string(b) != `{"locationId":"STL","sku":"9","count":4}` {
		t.Fatalf("without a source: %s", b)
	}
	if b, _ := (wire.JSON{}).EncodeEvent(e); string(b) != `{"locationId":"STL","sku":"9","count":4,"source":"wms-eu"}` {
		t.Fatalf("with a source: %s", b)
	}
}
