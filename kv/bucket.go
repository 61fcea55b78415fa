package kv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/drift"
)

// Ensure opens bucket cfg.Bucket, creating it when absent. An existing
// bucket is used as it is: every instance of every program calls this at
// start, and one started with a default (INVENTORY_REPLICAS=1) must not
// downgrade what the others rely on; on a cluster an update from each of
// them would also be a meta-layer proposal racing the others. A setting
// that differs (replicas, history, TTL, size limit) is logged as a warning
// on log (nil: slog.Default()): each of them is safe to run with, and
// Apply changes it on purpose. The one exception is a RePublish the
// bucket lacks (a view bucket of a version that still published its
// changes on SELLABLE): Ensure adds it, keeping every other setting,
// because this version publishes no change of its own, so without it
// live subscribers of inventory.sellable.> would silently get nothing,
// and it takes nothing away. A role that may not update streams (see
// natsauth) gets a warning instead, and `inventory admin apply` adds it.
func Ensure(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger) (jetstream.KeyValue, error) {
	return ensure(ctx, js, cfg, log, &upgrades{})
}

// upgrades remembers, over the buckets one program opens, whether an
// upgrade was refused: a refused stream update is a permission violation
// the server answers with no reply, so each attempt costs its whole
// timeout, and one refusal says the others would be refused too.
type upgrades struct{ refused bool }

// upgradeTimeout bounds one upgrade: a refused one never gets an answer.
const upgradeTimeout = 2 * time.Second

func ensure(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger, up *upgrades) (jetstream.KeyValue, error) {
	if log == nil {
		log = slog.Default()
	}
	b, err := js.KeyValue(ctx, cfg.Bucket)
	if err == nil {
		return b, check(ctx, js, b, cfg, log, up)
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("kv: open %s: %w", cfg.Bucket, err)
	}
	b, err = js.CreateKeyValue(ctx, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		b, err = js.KeyValue(ctx, cfg.Bucket) // another instance was first
	}
	if err != nil {
		return nil, fmt.Errorf("kv: create %s: %w", cfg.Bucket, err)
	}
	return b, nil
}

// check warns about the settings of an existing bucket that differ from
// want and applies the upgrades among them.
func check(ctx context.Context, js jetstream.JetStream, b jetstream.KeyValue, want jetstream.KeyValueConfig, log *slog.Logger, up *upgrades) error {
	st, err := b.Status(ctx)
	if err != nil {
		return fmt.Errorf("kv: status %s: %w", want.Bucket, err)
	}
	cs := Diff(configOf(st), want)
	if err := drift.Check(log, cs); err != nil {
		return err
	}
	for _, c := range cs {
		if !c.Upgrade {
			continue
		}
		err := errors.New("an earlier upgrade was refused")
		if !up.refused {
			uctx, cancel := context.WithTimeout(ctx, upgradeTimeout)
			err = addRepublish(uctx, js, st, want)
			cancel()
			up.refused = err != nil
		}
		if err != nil {
			log.Warn("cannot add the bucket's republish; live subscribers of its changes get none until `inventory admin apply` adds it",
				"bucket", want.Bucket, "err", err)
		} else {
			log.Info("bucket upgraded", "bucket", want.Bucket, "republish", republishText(want.RePublish))
		}
		break
	}
	return nil
}

// addRepublish adds want's RePublish to the bucket's stream, leaving every
// other setting as it is.
func addRepublish(ctx context.Context, js jetstream.JetStream, st jetstream.KeyValueStatus, want jetstream.KeyValueConfig) error {
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return fmt.Errorf("kv: bucket %s is not backed by a JetStream stream", want.Bucket)
	}
	cfg := bs.StreamInfo().Config
	cfg.RePublish = want.RePublish
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("kv: upgrade %s: %w", want.Bucket, err)
	}
	return nil
}

// configOf is a bucket's configuration as the server reports it.
func configOf(st jetstream.KeyValueStatus) jetstream.KeyValueConfig {
	if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok {
		return bs.Config()
	}
	return jetstream.KeyValueConfig{Bucket: st.Bucket(), History: uint8(st.History()), TTL: st.TTL()}
}

// Diff compares the settings a program sets on its buckets. None is
// refused: a program runs correctly with any of them.
func Diff(have, want jetstream.KeyValueConfig) []drift.Change {
	r := "bucket " + want.Bucket
	var cs []drift.Change
	cs = drift.Compare(cs, r, "replicas", max(have.Replicas, 1), max(want.Replicas, 1), nil)
	cs = drift.Compare(cs, r, "history", max(have.History, 1), max(want.History, 1), nil)
	cs = drift.Compare(cs, r, "ttl", ttlText(have.TTL), ttlText(want.TTL), nil)
	cs = drift.Compare(cs, r, "max_bytes", bytesText(have.MaxBytes), bytesText(want.MaxBytes), nil)
	if h, w := republishText(have.RePublish), republishText(want.RePublish); h != w {
		// Only adding one where there is none is an upgrade: a different
		// existing one was set by someone on purpose.
		cs = append(cs, drift.Change{Resource: r, Setting: "republish", Have: h, Want: w,
			Upgrade: have.RePublish == nil})
	}
	return cs
}

func republishText(r *jetstream.RePublish) string {
	if r == nil {
		return "none"
	}
	s := r.Source + " -> " + r.Destination
	if r.HeadersOnly {
		s += " (headers only)"
	}
	return s
}

// Plan lists how the existing buckets differ from cfgs, without changing
// anything; a bucket that does not exist yet is one change of "exists".
func Plan(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.KeyValueConfig) ([]drift.Change, error) {
	var cs []drift.Change
	for _, want := range cfgs {
		b, err := js.KeyValue(ctx, want.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			cs = append(cs, drift.Change{Resource: "bucket " + want.Bucket, Setting: "exists", Have: "no", Want: "yes"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("kv: open %s: %w", want.Bucket, err)
		}
		st, err := b.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("kv: status %s: %w", want.Bucket, err)
		}
		cs = append(cs, Diff(configOf(st), want)...)
	}
	return cs, nil
}

// Apply makes the buckets what cfgs say: it creates the missing ones and
// updates those that differ, and returns what it changed.
func Apply(ctx context.Context, js jetstream.JetStream, cfgs []jetstream.KeyValueConfig) ([]drift.Change, error) {
	cs, err := Plan(ctx, js, cfgs)
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for _, c := range cs {
		changed[c.Resource] = true
	}
	for _, want := range cfgs {
		if !changed["bucket "+want.Bucket] {
			continue
		}
		if _, err := js.CreateOrUpdateKeyValue(ctx, want); err != nil {
			return nil, fmt.Errorf("kv: apply %s: %w", want.Bucket, err)
		}
	}
	return cs, nil
}

func ttlText(d time.Duration) string {
	if d <= 0 {
		return "none"
	}
	return d.String()
}

func bytesText(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}
