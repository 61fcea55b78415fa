package calculator

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSharesGiveCeilToWhoHoldsMost(t *testing.T) {
	tests := []struct {
		name    string
		p       int
		members []string
		held    map[string]int
		want    map[string]int
	}{
		{"even", 8, []string{"a", "b", "c", "d"}, nil, map[string]int{"a": 2, "b": 2, "c": 2, "d": 2}},
		{"ties by id", 8, []string{"a", "b", "c"}, nil, map[string]int{"a": 3, "b": 3, "c": 2}},
		{"holders first", 8, []string{"a", "b", "c"}, map[string]int{"b": 4, "c": 4}, map[string]int{"a": 2, "b": 3, "c": 3}},
		{"more members than partitions", 2, []string{"a", "b", "c"}, map[string]int{"c": 1}, map[string]int{"a": 1, "b": 0, "c": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := shares(tt.p, tt.members, tt.held); !maps.Equal(got, tt.want) {
				t.Fatalf("shares = %v, want %v", got, tt.want)
			}
		})
	}
}

// cluster simulates instances that all read the same bucket and act on
// it one after another, each as rebalance would (hand-offs and claims
// take effect at once).
type cluster struct {
	p       int
	members []string
	owners  map[int]string
	moves   int // acquisitions of a partition that had another owner before
	before  map[int]string
}

func (c *cluster) settle(t *testing.T, order []string) {
	t.Helper()
	c.before = maps.Clone(c.owners)
	c.moves = 0
	for round := 0; ; round++ {
		if round > 10 {
			t.Fatalf("no fixpoint after %d rounds: %v", round, c.owners)
		}
		changed := false
		for _, m := range order {
			var kept []int
			for p := 0; p < c.p; p++ {
				if c.owners[p] == m {
					kept = append(kept, p)
				}
			}
			a := assign(m, c.p, c.members, c.owners, kept)
			for _, p := range a.release {
				delete(c.owners, p)
				changed = true
			}
			for _, p := range a.claim[:min(a.want, len(a.claim))] {
				c.owners[p] = m
				if prev, ok := c.before[p]; ok && prev != m {
					c.moves++
				}
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	counts := map[string]int{}
	for p := 0; p < c.p; p++ {
		o, ok := c.owners[p]
		if !ok {
			t.Fatalf("partition %d unowned: %v %v", p, c.owners, c.members)
		}
		counts[o]++
	}
	lo, hi := c.p/len(c.members), (c.p+len(c.members)-1)/len(c.members)
	for _, m := range c.members {
		if counts[m] < lo || counts[m] > hi {
			t.Fatalf("%s owns %d, want %d..%d: %v", m, counts[m], lo, hi, c.owners)
		}
	}
}

func (c *cluster) join(m string) {
	c.members = append(c.members, m)
	slices.Sort(c.members)
}

func (c *cluster) leave(m string) {
	c.members = slices.DeleteFunc(c.members, func(x string) bool { return x == m })
	for p, o := range c.owners {
		if o == m {
			delete(c.owners, p)
		}
	}
}

// minimum is the fewest partitions that must move to balance the current
// owners over the current members.
func (c *cluster) minimum() int {
	held := map[string]int{}
	for _, o := range c.owners {
		held[o]++
	}
	retained := 0
	for m, s := range shares(c.p, c.members, held) {
		retained += min(held[m], s)
	}
	owned := len(c.owners)
	return owned - retained
}

func newCluster(t *testing.T, p int, members ...string) *cluster {
	c := &cluster{p: p, owners: map[int]string{}}
	for _, m := range members {
		c.join(m)
		c.settle(t, c.members)
	}
	return c
}

func TestAssignMovesOnlyWhatMust(t *testing.T) {
	t.Run("join 3 to 4, newcomer sorts first", func(t *testing.T) {
		c := newCluster(t, 8, "b", "c", "d")
		c.join("a")
		c.settle(t, c.members)
		if c.moves != 2 {
			t.Fatalf("%d partitions moved, want 2", c.moves)
		}
	})
	t.Run("join 3 to 4, newcomer sorts last", func(t *testing.T) {
		c := newCluster(t, 8, "a", "b", "c")
		c.join("z")
		order := slices.Clone(c.members)
		slices.Reverse(order)
		c.settle(t, order)
		if c.moves != 2 {
			t.Fatalf("%d partitions moved, want 2", c.moves)
		}
	})
	t.Run("join 2 to 3, newcomer sorts first", func(t *testing.T) {
		c := newCluster(t, 8, "b", "c")
		c.join("a")
		c.settle(t, c.members)
		if c.moves != 2 {
			t.Fatalf("%d partitions moved, want 2", c.moves)
		}
	})
	t.Run("leave 4 to 3", func(t *testing.T) {
		for _, gone := range []string{"a", "b", "c", "d"} {
			c := newCluster(t, 8, "a", "b", "c", "d")
			c.leave(gone)
			c.settle(t, c.members)
			if c.moves != 0 || len(c.owners) != 8 {
				t.Fatalf("%s left: %d partitions moved between survivors, want 0", gone, c.moves)
			}
			if n := len(c.owners) - len(c.before); n != 2 {
				t.Fatalf("%s left: %d partitions taken over, want 2", gone, n)
			}
		}
	})
}

// Random joins and leaves: every step moves the minimum and ends
// balanced, whatever order the instances act in.
func TestAssignConvergesWithMinimalMoves(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		p := 1 + r.IntN(16)
		c := newCluster(t, p, "m0")
		next := 1
		for step := 0; step < 12; step++ {
			if len(c.members) > 1 && r.IntN(2) == 0 {
				c.leave(c.members[r.IntN(len(c.members))])
			} else {
				c.join(fmt.Sprintf("m%03d-%d", r.IntN(1000), next)) // random place in the order, unique
				next++
			}
			want := c.minimum()
			order := slices.Clone(c.members)
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			c.settle(t, order)
			if c.moves != want {
				t.Fatalf("trial %d step %d: %d moves, want %d (%v)", trial, step, c.moves, want, c.owners)
			}
		}
	}
}
