package calculator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
)

// leasesBucket holds "members.<instance>" heartbeats and
// "partitions.<p>" = owning instance. Its MaxAge is the lease TTL, so the
// keys of a dead instance vanish by themselves.
const leasesBucket = "calculator_leases"

const (
	memberPrefix    = "members."
	partitionPrefix = "partitions."
)

// leases is the I/O side of the ownership protocol: every call is one
// request to the bucket. What to do with the answers is decided by the
// caller from a view.
type leases struct {
	kv   jetstream.KeyValue
	self string // encoded instance id
}

func leasesBucketConfig(c Config) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      leasesBucket,
		Description: "Calculator membership and partition ownership",
		History:     1,
		TTL:         c.LeaseTTL,
		Storage:     jetstream.MemoryStorage,
		Replicas:    max(c.Replicas, 1),
	}
}

func openLeases(ctx context.Context, js jetstream.JetStream, c Config) (*leases, error) {
	b, err := kv.Ensure(ctx, js, leasesBucketConfig(c), c.Logger)
	if err != nil {
		return nil, fmt.Errorf("calculator: open %s: %w", leasesBucket, err)
	}
	return &leases{kv: b, self: streams.EncodeToken(c.InstanceID)}, nil
}

func partitionKey(p int) string { return partitionPrefix + strconv.Itoa(p) }

// heartbeat says this instance is alive.
func (l *leases) heartbeat(ctx context.Context) error {
	_, err := l.kv.Put(ctx, memberPrefix+l.self, []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	return err
}

// watch follows every heartbeat and lease: the current ones first, then
// each change as it happens, so no instance lists keys to find out.
func (l *leases) watch(ctx context.Context) (jetstream.KeyWatcher, error) {
	return l.kv.WatchFiltered(ctx, []string{memberPrefix + ">", partitionPrefix + ">"})
}

// acquire takes partition p if nobody holds it; ok is false when somebody
// does.
func (l *leases) acquire(ctx context.Context, p int) (rev uint64, ok bool, err error) {
	rev, err = l.kv.Create(ctx, partitionKey(p), []byte(l.self))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return rev, true, nil
}

// renew extends the lease on p held at revision rev; it fails with
// jetstream.ErrKeyRevisionMismatch if the lease expired or moved.
func (l *leases) renew(ctx context.Context, p int, rev uint64) (uint64, error) {
	return l.kv.Update(ctx, partitionKey(p), []byte(l.self), rev)
}

// errLeaseTaken says another instance holds a partition's lease.
var errLeaseTaken = errors.New("calculator: lease held by another instance")

// reclaim is the lease on p in this instance's name after a renewal was
// refused: the current revision if the bucket shows it in our name, a new
// one if it expired and we take it again first (retaken); errLeaseTaken
// if another instance holds it.
func (l *leases) reclaim(ctx context.Context, p int) (rev uint64, retaken bool, err error) {
	e, err := l.kv.Get(ctx, partitionKey(p))
	switch {
	case err == nil && string(e.Value()) == l.self:
		return e.Revision(), false, nil
	case err == nil:
		return 0, false, errLeaseTaken
	case errors.Is(err, jetstream.ErrKeyNotFound):
		rev, ok, err := l.acquire(ctx, p)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return 0, false, errLeaseTaken
		}
		return rev, true, nil
	default:
		return 0, false, err
	}
}

// release gives p up, unless someone else already holds it.
func (l *leases) release(ctx context.Context, p int, rev uint64) error {
	err := l.kv.Purge(ctx, partitionKey(p), jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil
	}
	return err
}

// leave removes this instance's heartbeat so others rebalance at once.
func (l *leases) leave(ctx context.Context) error {
	return l.kv.Purge(ctx, memberPrefix+l.self)
}

// view is this instance's picture of the bucket, kept up to date by the
// watch. A key that expires by MaxAge sends nothing to a watcher, so an
// entry also expires here one TTL after it was last seen; seen is local
// time at delivery, never earlier than the server's store time, so a key
// expired here has expired on the server too (and acquiring it succeeds).
type view struct {
	ttl     time.Duration
	members map[string]time.Time // instance -> last heartbeat seen
	leases  map[int]lease
	// freeSince is when each partition was last seen to become free.
	freeSince map[int]time.Time
}

type lease struct {
	owner string
	rev   uint64
	seen  time.Time
}

func newView(ttl time.Duration) *view {
	return &view{ttl: ttl, members: map[string]time.Time{}, leases: map[int]lease{}, freeSince: map[int]time.Time{}}
}

// apply records one update of the watch, seen at now.
func (v *view) apply(e jetstream.KeyValueEntry, now time.Time) {
	gone := e.Operation() != jetstream.KeyValuePut
	if m, ok := strings.CutPrefix(e.Key(), memberPrefix); ok {
		if gone {
			delete(v.members, m)
		} else {
			v.members[m] = now
		}
		return
	}
	s, ok := strings.CutPrefix(e.Key(), partitionPrefix)
	if !ok {
		return
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 {
		return
	}
	if gone {
		v.free(p, now)
		return
	}
	v.leases[p] = lease{owner: string(e.Value()), rev: e.Revision(), seen: now}
	delete(v.freeSince, p)
}

func (v *view) free(p int, at time.Time) {
	if _, ok := v.leases[p]; ok || v.freeSince[p].IsZero() {
		v.freeSince[p] = at
	}
	delete(v.leases, p)
}

// expire forgets what has not been renewed within a TTL.
func (v *view) expire(now time.Time) {
	for m, seen := range v.members {
		if now.Sub(seen) >= v.ttl {
			delete(v.members, m)
		}
	}
	for p, l := range v.leases {
		if now.Sub(l.seen) >= v.ttl {
			v.free(p, l.seen.Add(v.ttl))
		}
	}
}

// nextExpiry is when the next entry of the view expires (zero: none).
func (v *view) nextExpiry() time.Time {
	var next time.Time
	at := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, seen := range v.members {
		at(seen.Add(v.ttl))
	}
	for _, l := range v.leases {
		at(l.seen.Add(v.ttl))
	}
	return next
}

// shares is each live member's fair share of the partitions: floor(P/M)
// or ceil(P/M), summing to P. The ceil shares go to the members that
// already hold the most (then to the lowest id), so handing them out
// moves nothing that need not move, and every member computes the same
// answer from the same counts.
func shares(partitions int, members []string, held map[string]int) map[string]int {
	out := make(map[string]int, len(members))
	if len(members) == 0 {
		return out
	}
	ranked := slices.Clone(members)
	slices.SortFunc(ranked, func(a, b string) int {
		if c := cmp.Compare(held[b], held[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	base, extra := partitions/len(members), partitions%len(members)
	for i, m := range ranked {
		out[m] = base
		if i < extra {
			out[m]++
		}
	}
	return out
}

// assignment is one instance's reading of the view: what it should do.
type assignment struct {
	// share is this instance's fair share, floor is floor(P/M).
	share, floor int
	// release are partitions kept beyond the share, to hand off.
	release []int
	// claim are free partitions to try in this order, want how many of
	// them to take.
	claim []int
	want  int
}

// assign decides, for self, from the live members, the owner of each
// partition ("" when free; owners that are not live members hold theirs
// until their lease expires), and the partitions self keeps running
// (held minus those being handed off). An instance keeps what it holds up
// to its share, hands off the rest (the highest partitions), and claims
// free partitions up to its share, starting at its own place in the ring
// so that instances claiming together rarely race for the same one.
func assign(self string, partitions int, members []string, owners map[int]string, kept []int) assignment {
	held := map[string]int{}
	var free []int
	for p := 0; p < partitions; p++ {
		if o := owners[p]; o == "" {
			free = append(free, p)
		} else {
			held[o]++
		}
	}
	a := assignment{share: shares(partitions, members, held)[self]}
	if len(members) > 0 {
		a.floor = partitions / len(members)
	}
	if len(kept) > a.share {
		a.release = slices.Clone(kept[a.share:])
		return a
	}
	a.want = a.share - len(kept)
	if a.want == 0 || len(free) == 0 {
		return a
	}
	start := 0
	if i := slices.Index(members, self); i > 0 {
		start = i * partitions / len(members)
	}
	i, _ := slices.BinarySearch(free, start)
	a.claim = append(slices.Clone(free[i:]), free[:i]...)
	return a
}
