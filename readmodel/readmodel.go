package readmodel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/metrics"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// DefaultMaxKeys bounds the held keys unless told otherwise. A held key
// costs about 400 bytes of heap (its answer, ~200 bytes, the entry, the
// key and the map's share; BenchmarkChange's bytes/key), so 100,000 keys
// are about 40 MB: a hot catalogue's
// reads are answered from memory while a process over a million keys
// stays well inside the 500 MB the issue allows the all-in-one, beside
// the calculator's own writer cache (INVENTORY_WRITER_CACHE_KEYS).
const DefaultMaxKeys = 100_000

// Config sets a read model.
type Config struct {
	// Partitions is the number of view buckets to watch.
	Partitions int
	// MaxKeys bounds the keys held in memory, over all partitions; 0
	// holds none, and every read goes to the bucket.
	MaxKeys int
	// Render encodes a position as its answer (api.PositionAnswer).
	Render func(sellable.Position) []byte
	// Logger receives the watches' failures; nil is slog.Default().
	Logger *slog.Logger
}

// DefaultConfig is a read model of DefaultMaxKeys; Partitions and Render
// are the caller's.
func DefaultConfig() Config { return Config{MaxKeys: DefaultMaxKeys} }

// Validate says what is wrong with c, all of it.
func (c Config) Validate() error {
	var errs []error
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("readmodel: partitions %d < 1", c.Partitions))
	}
	if c.MaxKeys < 0 {
		errs = append(errs, fmt.Errorf("readmodel: max keys %d < 0", c.MaxKeys))
	}
	if c.Render == nil {
		errs = append(errs, errors.New("readmodel: no Render"))
	}
	return errors.Join(errs...)
}

// Source reads a position from the view buckets (kv.Store): what a read
// the model cannot answer from memory asks.
type Source interface {
	Get(ctx context.Context, locationID, sku string) (sellable.Position, error)
}

// Model holds answers of the view in memory (see the package doc).
type Model struct {
	cfg     Config
	src     Source
	buckets []jetstream.KeyValue
	log     *slog.Logger

	// notCaughtUp counts the partitions whose watch has not yet
	// delivered every value the bucket held when it started: until it is
	// 0, memory may be older than a fresh startup allows and every read
	// goes to the bucket.
	notCaughtUp atomic.Int32

	mu   sync.RWMutex
	held map[sellable.Key]*entry
	// fills are the keys being read from the bucket after a miss (see
	// Answer).
	fills map[sellable.Key]*fill

	parts []partMetrics
	// delivered is, by partition, the bucket revision (stream
	// sequence) of the last change its watch delivered.
	delivered []atomic.Uint64
}

// entry is one held answer. A watched change is held as the stored bytes
// and rendered by the first read (once); an entry is never changed after
// it is published, a newer change replaces it.
type entry struct {
	once sync.Once
	// watched says the entry came from a watch, so it is at least as new
	// as any read of the bucket that finishes while it is held; set at
	// construction, never changed.
	watched bool
	raw     []byte
	answer  []byte
	seq     uint64
	err     error
}

// fill is a bucket read in flight for a key the model did not hold.
type fill struct {
	n int // reads in flight
	// watched is set when a watch delivered a change of the key after
	// the reads began: their result may be older, and is not held.
	watched bool
}

type partMetrics struct {
	behind, caughtUp prometheus.Gauge
}

// New opens the partition buckets of the view for a model that reads
// misses from src. Run starts watching them.
func New(ctx context.Context, js jetstream.JetStream, src Source, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, src: src, log: cfg.Logger, held: map[sellable.Key]*entry{}, fills: map[sellable.Key]*fill{}}
	if m.log == nil {
		m.log = slog.Default()
	}
	for p := range cfg.Partitions {
		b, err := js.KeyValue(ctx, kv.BucketName(p))
		if err != nil {
			return nil, fmt.Errorf("readmodel: open %s: %w", kv.BucketName(p), err)
		}
		m.buckets = append(m.buckets, b)
		l := strconv.Itoa(p)
		m.parts = append(m.parts, partMetrics{
			behind:   metrics.ReadModelBehind.WithLabelValues(l),
			caughtUp: metrics.ReadModelCaughtUp.WithLabelValues(l),
		})
		m.parts[p].caughtUp.Set(0)
	}
	m.delivered = make([]atomic.Uint64, cfg.Partitions)
	m.notCaughtUp.Store(int32(cfg.Partitions))
	return m, nil
}

// CaughtUp says whether every watch has delivered what its bucket held
// when it started, so that reads are answered from memory.
func (m *Model) CaughtUp() bool { return m.notCaughtUp.Load() == 0 }

// Answer is the answer to GET of a position, the sequence it reflects
// the position up to, or sellable.ErrNotFound.
//
// A key not held is read from the bucket and then held, unless a watch
// delivered a change of it while the read was in flight: the read may
// have seen the older value, and holding it would serve that until the
// key changes again. The watch's change is held instead (or, for a
// delete, nothing).
func (m *Model) Answer(ctx context.Context, locationID, sku string) ([]byte, uint64, error) {
	k := sellable.Key{LocationID: locationID, SKU: sku}
	if m.notCaughtUp.Load() != 0 {
		return m.read(ctx, k)
	}
	m.mu.RLock()
	e := m.held[k]
	m.mu.RUnlock()
	if e != nil {
		metrics.ReadModelHits.Inc()
		return e.load(m.cfg.Render)
	}
	metrics.ReadModelMisses.Inc()
	if m.cfg.MaxKeys == 0 {
		return m.read(ctx, k)
	}
	m.mu.Lock()
	f := m.fills[k]
	if f == nil {
		f = &fill{}
		m.fills[k] = f
	}
	f.n++
	m.mu.Unlock()

	pos, err := m.src.Get(ctx, locationID, sku)
	var answer []byte
	if err == nil {
		answer = m.cfg.Render(pos)
	}

	m.mu.Lock()
	m.settle(k, f, answer, pos.Seq, err == nil)
	m.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	return answer, pos.Seq, nil
}

// settle ends one read of fill f for k, holding what it read (answer at
// seq, when ok) unless a watch delivered a change of k meanwhile or
// another read of k already held a value at least as new: two reads of
// one key may finish in either order. m.mu is held.
func (m *Model) settle(k sellable.Key, f *fill, answer []byte, seq uint64, ok bool) {
	if f.n--; f.n == 0 {
		delete(m.fills, k)
	}
	if !ok || f.watched {
		return
	}
	if cur := m.held[k]; cur != nil && (cur.watched || cur.seq >= seq) {
		return
	}
	e := &entry{answer: answer, seq: seq}
	e.once.Do(func() {})
	m.hold(k, e)
}

// read answers from the bucket without holding anything.
func (m *Model) read(ctx context.Context, k sellable.Key) ([]byte, uint64, error) {
	pos, err := m.src.Get(ctx, k.LocationID, k.SKU)
	if err != nil {
		return nil, 0, err
	}
	return m.cfg.Render(pos), pos.Seq, nil
}

// load renders a watched change on first use.
func (e *entry) load(render func(sellable.Position) []byte) ([]byte, uint64, error) {
	e.once.Do(func() {
		pos, err := kv.DecodeValue(e.raw)
		if err != nil {
			e.err = fmt.Errorf("readmodel: decode held value: %w", err)
		} else {
			e.answer, e.seq = render(pos), pos.Seq
		}
		e.raw = nil
	})
	return e.answer, e.seq, e.err
}

// hold puts e in k's place, making room by forgetting another key when
// the model is full. m.mu is held.
func (m *Model) hold(k sellable.Key, e *entry) {
	if _, ok := m.held[k]; !ok && len(m.held) >= m.cfg.MaxKeys {
		// Map iteration starts at a random place: a random key goes.
		for victim := range m.held {
			delete(m.held, victim)
			metrics.ReadModelEvictions.Inc()
			break
		}
	}
	m.held[k] = e
	metrics.ReadModelKeys.Set(float64(len(m.held)))
}

// change applies one watched change of k: a new stored value, or nil for
// a delete or purge.
func (m *Model) change(k sellable.Key, raw []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.fills[k]
	if f != nil {
		f.watched = true
	}
	if raw == nil {
		if _, ok := m.held[k]; ok {
			delete(m.held, k)
			metrics.ReadModelKeys.Set(float64(len(m.held)))
		}
		return
	}
	// Once full, a key not held is taken only if a read waits for it:
	// writes to keys nobody reads do not push out the ones read.
	if _, ok := m.held[k]; ok || f != nil || len(m.held) < m.cfg.MaxKeys {
		m.hold(k, &entry{watched: true, raw: raw})
	}
}

// Run watches every partition's bucket until ctx ends. A watch that
// stops (its subscription closed) is started again, and memory is not
// read for the partition until it has caught up again.
func (m *Model) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for p := range m.buckets {
		g.Go(func() error { return m.watch(ctx, p) })
	}
	return g.Wait()
}

// rewatch is the pause before a failed watch is started again.
const rewatch = time.Second

func (m *Model) watch(ctx context.Context, p int) error {
	b, pm := m.buckets[p], m.parts[p]
	caughtUp := false
	for {
		w, err := b.WatchAll(ctx)
		if err == nil {
			caughtUp = m.consume(ctx, p, w, caughtUp)
			err = w.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
		if caughtUp {
			// Memory misses what happened while no watch ran, until the
			// new one has caught up.
			caughtUp = false
			m.notCaughtUp.Add(1)
			pm.caughtUp.Set(0)
		}
		m.log.Warn("readmodel: watch stopped, starting again", "bucket", b.Bucket(), "err", err)
		t := time.NewTimer(rewatch)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// consume applies w's updates until it closes or ctx ends, and says
// whether the partition has caught up.
func (m *Model) consume(ctx context.Context, p int, w jetstream.KeyWatcher, caughtUp bool) bool {
	pm := m.parts[p]
	for {
		select {
		case <-ctx.Done():
			return caughtUp
		case u, ok := <-w.Updates():
			if !ok {
				return caughtUp
			}
			if u == nil { // every value the bucket held at the start
				if !caughtUp {
					caughtUp = true
					m.notCaughtUp.Add(-1)
					pm.caughtUp.Set(1)
				}
				continue
			}
			pm.behind.Set(float64(u.Delta()))
			k, err := keyOf(u.Key())
			switch {
			case err != nil:
				m.log.Warn("readmodel: key not of the view", "bucket", u.Bucket(), "key", u.Key(), "err", err)
			case u.Operation() == jetstream.KeyValuePut:
				m.change(k, u.Value())
			default:
				m.change(k, nil)
			}
			m.delivered[p].Store(u.Revision())
		}
	}
}

// keyOf reads a view key "<loc>.<sku>" (streams.KeyToken).
func keyOf(token string) (sellable.Key, error) {
	loc, sku, ok := strings.Cut(token, ".")
	if !ok {
		return sellable.Key{}, fmt.Errorf("%w: no '.'", streams.ErrBadToken)
	}
	var k sellable.Key
	var err error
	if k.LocationID, err = streams.DecodeToken(loc); err != nil {
		return k, err
	}
	k.SKU, err = streams.DecodeToken(sku)
	return k, err
}
