package calculator_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// acquisitions counts the partitions instances acquired, from their log.
type acquisitions struct{ n atomic.Int64 }

func (a *acquisitions) Enabled(context.Context, slog.Level) bool { return true }
func (a *acquisitions) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a *acquisitions) WithGroup(string) slog.Handler            { return a }
func (a *acquisitions) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "partition acquired" {
		a.n.Add(1)
	}
	return nil
}

// owners maps each partition to the instance running it, and fails if
// one is unowned or owned twice.
func owners(cs map[string]*calculator.Calculator, partitions int) (map[int]string, error) {
	out := map[int]string{}
	for name, c := range cs {
		for _, p := range c.Owned() {
			if o, ok := out[p]; ok {
				return nil, fmt.Errorf("partition %d owned by %s and %s", p, o, name)
			}
			out[p] = name
		}
	}
	for p := 0; p < partitions; p++ {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("partition %d unowned: %v", p, out)
		}
	}
	return out, nil
}

// balancedOwners waits until every partition is owned once and every
// instance runs its fair share, and returns who owns what.
func balancedOwners(t *testing.T, cs map[string]*calculator.Calculator, partitions int) map[int]string {
	t.Helper()
	var out map[int]string
	poll.Until(t, 15*time.Second, fmt.Sprintf("%d partitions balanced over %d", partitions, len(cs)), func() error {
		o, err := owners(cs, partitions)
		if err != nil {
			return err
		}
		lo, hi := partitions/len(cs), (partitions+len(cs)-1)/len(cs)
		for name, c := range cs {
			if n := len(c.Owned()); n < lo || n > hi {
				return fmt.Errorf("%s owns %v, want %d..%d", name, c.Owned(), lo, hi)
			}
		}
		out = o
		return nil
	})
	return out
}

func moved(before, after map[int]string) int {
	n := 0
	for p, o := range after {
		if before[p] != o {
			n++
		}
	}
	return n
}

// publisher records adjustments in the background until stopped, and
// remembers what each key must add up to.
type publisher struct {
	e    *env
	loc  string
	stop chan struct{}
	halt func() // closes stop once
	done chan error
	want map[string]int64
	last map[string]uint64
	sku  func() string // the key of the next event
}

// publish records adjustments of 2 on 32 keys drawn at random.
func (e *env) publish(t *testing.T) *publisher {
	return e.publishOn(t, func() string { return strconv.Itoa(rand.IntN(32)) })
}

// publishOn records adjustments of 2 on the keys sku draws, one at a
// time, from the publisher's goroutine.
func (e *env) publishOn(t *testing.T, sku func() string) *publisher {
	p := &publisher{e: e, loc: "L" + strconv.Itoa(rand.Int()), stop: make(chan struct{}), done: make(chan error, 1),
		want: map[string]int64{}, last: map[string]uint64{}, sku: sku}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			default:
			}
			// No cancellation: an event stored but not acknowledged
			// would be missing from want.
			sku := p.sku()
			rc, err := e.cmds.Record(context.Background(), sellable.Command{Kind: sellable.Adjustment, LocationID: p.loc, SKU: sku, Count: 2})
			if err != nil {
				p.done <- err
				return
			}
			p.want[sku] += 2
			p.last[sku] = rc.Seq
		}
	}()
	p.halt = sync.OnceFunc(func() { close(p.stop) })
	t.Cleanup(p.halt)
	return p
}

// check stops publishing and waits until every key counts each recorded
// event exactly once.
func (p *publisher) check(t *testing.T) {
	t.Helper()
	p.halt()
	if err := <-p.done; err != nil {
		t.Fatal(err)
	}
	if len(p.want) == 0 {
		t.Fatal("nothing published")
	}
	for sku, n := range p.want {
		p.e.wantPosition(t, p.loc, sku, n, p.last[sku])
	}
}

// A join moves only the partitions the newcomer must take (3 → 4 over
// eight partitions: 3,3,2 → 2,2,2,2 moves two), a leave only the leaver's,
// nothing moves back and forth, and every event counts exactly once.
func TestJoinAndLeaveMoveOnlyWhatMust(t *testing.T) {
	const partitions = 8
	e := setupPartitions(t, partitions)
	acq := &acquisitions{}
	start := func(name string) (*calculator.Calculator, func()) {
		return e.startCalculatorWith(t, name, wire.NewCodecs(), slog.New(acq))
	}
	cs := map[string]*calculator.Calculator{}
	stops := map[string]func(){}
	for _, name := range []string{"c2", "c3", "c4"} {
		cs[name], stops[name] = start(name)
		balancedOwners(t, cs, partitions)
	}
	pub := e.publish(t)
	before := balancedOwners(t, cs, partitions)
	base := acq.n.Load()

	// The newcomer's id sorts first: with round robin over sorted ids it
	// would have moved every partition.
	cs["c1"], stops["c1"] = start("c1")
	after := balancedOwners(t, cs, partitions)
	if n := moved(before, after); n != 2 {
		t.Fatalf("join moved %d partitions, want 2: %v → %v", n, before, after)
	}
	if n := acq.n.Load() - base; n != 2 {
		t.Fatalf("join: %d acquisitions, want 2", n)
	}

	before = after
	stops["c3"]()
	delete(cs, "c3")
	after = balancedOwners(t, cs, partitions)
	for p, o := range before {
		if o != "c3" && after[p] != o {
			t.Fatalf("leave moved partition %d from %s to %s: %v → %v", p, o, after[p], before, after)
		}
	}
	if n := moved(before, after); n != 2 {
		t.Fatalf("leave moved %d partitions, want 2: %v → %v", n, before, after)
	}
	if n := acq.n.Load() - base; n != 4 {
		t.Fatalf("join and leave: %d acquisitions, want 4", n)
	}
	pub.check(t)
}

// gatedCodec decodes JSON bodies under its own content type only once
// its gate opens: a decode that takes as long as the test wants.
type gatedCodec struct {
	wire.JSON
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedCodec) ContentType() string { return "application/x-gated" }
func (g *gatedCodec) DecodeEvent(ctx context.Context, data []byte) (wire.Body, error) {
	select {
	case g.entered <- struct{}{}:
	default:
	}
	<-g.gate
	return g.JSON.DecodeEvent(ctx, data)
}

// A worker stuck in a decode must not hold a hand-off up, nor the
// ownership loop: the stop leaves the batch in process (partition.run), so
// both partitions c1 gives up move to c2 at once, and c1 keeps renewing
// the leases it keeps.
func TestStuckHandOffDoesNotStallOwnership(t *testing.T) {
	e := setup(t) // four partitions
	ctx := context.Background()
	g := &gatedCodec{entered: make(chan struct{}, 1), gate: make(chan struct{})}
	var open sync.Once
	release := func() { open.Do(func() { close(g.gate) }) }
	log := slog.New(slog.DiscardHandler)
	c1, _ := e.startCalculatorWith(t, "c1", wire.NewCodecs(g), log)
	t.Cleanup(release) // before c1 stops: cleanups run last first
	poll.Until(t, 10*time.Second, "c1 owns all", func() error {
		if o := c1.Owned(); len(o) != partitions {
			return fmt.Errorf("c1 owns %v", o)
		}
		return nil
	})

	// c1 hands off its two highest partitions when c2 joins: make the
	// highest one's worker hang in a decode.
	var k sellable.Key
	for i := 0; ; i++ {
		k = sellable.Key{LocationID: "STL", SKU: "stuck" + strconv.Itoa(i)}
		if streams.Partition(k, partitions) == partitions-1 {
			break
		}
	}
	body, err := g.EncodeEvent(sellable.Event{Kind: sellable.Adjustment, Key: k, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(streams.EventSubject(sellable.Adjustment, k))
	msg.Data = body
	msg.Header.Set(streams.HeaderContentType, g.ContentType())
	if _, err := e.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	<-g.entered

	c2, _ := e.startCalculatorWith(t, "c2", wire.NewCodecs(g), log)
	t.Cleanup(release) // c2 may meet the stuck message too
	poll.Until(t, 10*time.Second, "both hand-offs", func() error {
		if o1, o2 := c1.Owned(), c2.Owned(); !slices.Equal(o1, []int{0, 1}) || !slices.Equal(o2, []int{2, 3}) {
			return fmt.Errorf("c1 owns %v, c2 owns %v", o1, o2)
		}
		return nil
	})
	leases, err := e.JS.KeyValue(ctx, "calculator_leases")
	if err != nil {
		t.Fatal(err)
	}
	rev := func(p int) uint64 {
		en, err := leases.Get(ctx, "partitions."+strconv.Itoa(p))
		if err != nil {
			t.Fatal(err)
		}
		return en.Revision()
	}
	r0 := rev(0)
	for i := 0; i < 3; i++ {
		poll.Until(t, 5*time.Second, "c1 renews its leases", func() error {
			if n0 := rev(0); n0 != r0 {
				r0 = n0
				return nil
			}
			return errors.New("not renewed")
		})
	}
	release()
	poll.Until(t, 10*time.Second, "the stuck hand-off completes", func() error {
		o, err := owners(map[string]*calculator.Calculator{"c1": c1, "c2": c2}, partitions)
		if err != nil {
			return err
		}
		if want := map[int]string{0: "c1", 1: "c1", 2: "c2", 3: "c2"}; !maps.Equal(o, want) {
			return fmt.Errorf("owners %v, want %v", o, want)
		}
		return nil
	})
}
