package loadtest

import (
	"fmt"
	"math/rand/v2"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// locations is how many locations the keys are spread over.
const locations = 10

// keySet is the positions a run writes: key i is SKU "<prefix>-<i>" at
// location "<prefix>-L<i mod 10>". Index 0 is the hottest under Zipf.
type keySet struct {
	keys  []sellable.Key
	names []string // KV key, streams.KeyToken(key)
	index map[string]int
}

func newKeySet(prefix string, n int) *keySet {
	ks := &keySet{keys: make([]sellable.Key, n), names: make([]string, n), index: make(map[string]int, n)}
	for i := range n {
		k := sellable.Key{
			LocationID: fmt.Sprintf("%s-L%d", prefix, i%locations),
			SKU:        fmt.Sprintf("%s-%06d", prefix, i),
		}
		ks.keys[i] = k
		ks.names[i] = streams.KeyToken(k)
		ks.index[ks.names[i]] = i
	}
	return ks
}

func (ks *keySet) len() int { return len(ks.keys) }

// picker draws key indexes: Zipf-distributed with exponent skew, or
// uniform when skew is 0, or in order when sequential. Not safe for
// concurrent use.
type picker struct {
	r          *rand.Rand
	zipf       *rand.Zipf
	n          int
	sequential bool
	i          int
}

func newPicker(seed uint64, skew float64, n int) *picker {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := &picker{r: r, n: n}
	if skew > 1 && n > 1 {
		p.zipf = rand.NewZipf(r, skew, 1, uint64(n-1))
	}
	return p
}

func (p *picker) next() int {
	if p.sequential {
		k := p.i
		p.i = (p.i + 1) % p.n
		return k
	}
	if p.zipf != nil {
		return int(p.zipf.Uint64())
	}
	return p.r.IntN(p.n)
}

// event is one command to send.
type event struct {
	key   int
	kind  sellable.Kind
	count int64
}

// generator makes the event sequence of a run: keys from a picker, three
// adjustments of 1..10 for each reservation of 1, so counts stay positive.
type generator struct {
	p *picker
}

func newGenerator(seed uint64, skew float64, keys int) *generator {
	return &generator{p: newPicker(seed, skew, keys)}
}

// generatorFor is the generator of a run's settings: with Sequential,
// every key once, in order, before any key again, so that Events = Keys
// writes exactly Keys distinct positions.
func generatorFor(cfg Config, seed uint64) *generator {
	g := newGenerator(seed, cfg.Skew, cfg.Keys)
	g.p.sequential = cfg.Sequential
	return g
}

func (g *generator) next() event {
	k := g.p.next()
	if g.p.r.IntN(4) == 0 {
		return event{key: k, kind: sellable.Reservation, count: 1}
	}
	return event{key: k, kind: sellable.Adjustment, count: 1 + g.p.r.Int64N(10)}
}
