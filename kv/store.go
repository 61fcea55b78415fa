package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Config sets how the buckets are created.
type Config struct {
	Partitions int
	Replicas   int
	// Logger receives the warnings about buckets whose settings differ
	// from these; nil is slog.Default().
	Logger *slog.Logger
}

// BucketConfig is the definition of partition p's bucket. The bucket is
// the one store of each change (issue 15.2): its stream KV_<bucket> is
// the change log downstream readers consume, and the server republishes
// every value it stores to inventory.sellable.<loc>.<sku> for live
// subscribers, so nobody publishes changes a second time.
func BucketConfig(p int, c Config) jetstream.KeyValueConfig {
	name := BucketName(p)
	return jetstream.KeyValueConfig{
		Bucket:      name,
		Description: "Sellable quantity per location and SKU, partition " + strconv.Itoa(p),
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(c.Replicas, 1),
		RePublish:   Republish(name),
	}
}

// Republish maps bucket's keys "<loc>.<sku>" (streams.KeyToken) to their
// live subjects, streams.SellableSubject: $KV.<bucket>.<loc>.<sku> →
// inventory.sellable.<loc>.<sku>, the payload the stored value as it is.
func Republish(bucket string) *jetstream.RePublish {
	return &jetstream.RePublish{Source: keyPrefix(bucket) + ">", Destination: streams.SellableRepublish}
}

// keyPrefix is the subject prefix of bucket's keys in its stream.
func keyPrefix(bucket string) string { return "$KV." + bucket + "." }

// StreamName is the stream behind partition p's bucket: its change log,
// one message per value written (and per delete or purge marker).
func StreamName(p int) string { return "KV_" + BucketName(p) }

// Subject is where partition p's bucket stores k's value: a put of key
// "<loc>.<sku>" is a message on $KV.<bucket>.<loc>.<sku>.
func Subject(p int, k sellable.Key) string { return keyPrefix(BucketName(p)) + streams.KeyToken(k) }

// KeyOfSubject is the position whose value a message of partition p's
// bucket stream stores, read from its subject $KV.<bucket>.<loc>.<sku>.
func KeyOfSubject(p int, subject string) (sellable.Key, error) {
	tok, ok := strings.CutPrefix(subject, keyPrefix(BucketName(p)))
	if !ok {
		return sellable.Key{}, fmt.Errorf("kv: subject %q is not a key of bucket %s", subject, BucketName(p))
	}
	return streams.ParseKeyToken(tok)
}

// BucketConfigs are the definitions of every partition's bucket.
func BucketConfigs(c Config) []jetstream.KeyValueConfig {
	cfgs := make([]jetstream.KeyValueConfig, c.Partitions)
	for p := range cfgs {
		cfgs[p] = BucketConfig(p, c)
	}
	return cfgs
}

// BucketName is the bucket of partition p.
func BucketName(p int) string { return "sellable_p" + strconv.Itoa(p) }

// Store reads positions from the partition buckets.
type Store struct {
	buckets []jetstream.KeyValue
	// logs are the buckets' backing streams, which a Writer reads
	// directly to see the delete and purge markers the KV API hides.
	logs []jetstream.Stream
}

// Open creates the buckets when absent and returns a store over them.
func Open(ctx context.Context, js jetstream.JetStream, c Config) (*Store, error) {
	if c.Partitions < 1 {
		return nil, fmt.Errorf("kv: partitions %d < 1", c.Partitions)
	}
	s := &Store{buckets: make([]jetstream.KeyValue, c.Partitions), logs: make([]jetstream.Stream, c.Partitions)}
	up := &upgrades{}
	for p := range s.buckets {
		b, err := ensure(ctx, js, BucketConfig(p, c), c.Logger, up)
		if err != nil {
			return nil, err
		}
		s.buckets[p] = b
		if s.logs[p], err = backing(ctx, js, b); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// backing is the stream behind bucket b, named as the bucket reports it.
func backing(ctx context.Context, js jetstream.JetStream, b jetstream.KeyValue) (jetstream.Stream, error) {
	st, err := b.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("kv: status of %s: %w", b.Bucket(), err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil, fmt.Errorf("kv: bucket %s is not backed by a JetStream stream", b.Bucket())
	}
	stream, err := js.Stream(ctx, bs.StreamInfo().Config.Name)
	if err != nil {
		return nil, fmt.Errorf("kv: stream of %s: %w", b.Bucket(), err)
	}
	return stream, nil
}

// Partitions is the number of buckets.
func (s *Store) Partitions() int { return len(s.buckets) }

// Get reads the position of a location and SKU from its partition's
// bucket. Invalid identifiers wrap a *sellable.FieldError.
func (s *Store) Get(ctx context.Context, locationID, sku string) (sellable.Position, error) {
	k := sellable.Key{LocationID: locationID, SKU: sku}
	if err := k.Validate(); err != nil {
		return sellable.Position{}, err
	}
	pos, _, err := get(ctx, s.buckets[streams.Partition(k, len(s.buckets))], streams.KeyToken(k))
	return pos, err
}

// getTimeout bounds a read, so that a query answers 503 soon while NATS
// is unreachable instead of holding the client.
const getTimeout = 2 * time.Second

func get(ctx context.Context, b jetstream.KeyValue, key string) (sellable.Position, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, getTimeout)
	defer cancel()
	e, err := b.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return sellable.Position{}, 0, ErrNotFound
	}
	if err != nil {
		return sellable.Position{}, 0, fmt.Errorf("kv: get %s: %w: %w", key, sellable.ErrUnavailable, err)
	}
	pos, err := DecodeValue(e.Value())
	if err != nil {
		return sellable.Position{}, 0, fmt.Errorf("kv: decode %s: %w", key, err)
	}
	return pos, e.Revision(), nil
}

// IsMarker reports whether a message of a bucket's stream (or its
// republished copy on inventory.sellable.>) with headers h is a delete or
// purge marker rather than a value: readers of the change log skip them.
func IsMarker(h nats.Header) bool { return isMarker(h) }
