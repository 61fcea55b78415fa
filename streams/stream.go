package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/internal/drift"
	"github.com/sellable/inventory/sellable"
)

// Stream names.
const (
	// EventStream is the event log: every adjustment and reservation.
	EventStream = "INVENTORY"
	// SellableStream is the retired change stream: it held the newest
	// sellable value per position, a second copy of the view buckets'
	// (issue 15.2). Nothing creates it any more; Plan lists its deletion
	// and Apply deletes it, since while it exists it captures the
	// buckets' republished changes on inventory.sellable.> and so stores
	// every change twice again (see Retired).
	SellableStream = "SELLABLE"
	// DeadLetterStream keeps messages the calculator could not apply,
	// with the reason in headers.
	DeadLetterStream = "INVENTORY_DLQ"
)

// DefaultPartitions is the partition count of a new deployment.
const DefaultPartitions = 8

// Config sets how the streams are created. Once a stream exists, its
// settings are shared by every process: Ensure never changes them, Apply
// does (see Ensure for which differences only warn and which refuse).
type Config struct {
	// Partitions is fixed when the event stream is created.
	Partitions int
	// Replicas is 1 standalone, 3 on a three-node cluster.
	Replicas int
	// Duplicates is the event stream's duplicate window: how long a
	// command's idempotency key is remembered. Each key in the window
	// costs the server memory and restart time (see BENCHMARKS.md).
	Duplicates time.Duration
	// MaxBytes bounds the event stream's size on disk; 0 is unlimited.
	// When it is reached the stream refuses new events (DiscardNew), so
	// commands answer 503 and nothing stored is ever deleted.
	MaxBytes int64
	// MaxAge deletes events older than this from the event stream; 0 keeps
	// them forever. The server ages events out whatever the discard
	// policy, so a view key can then no longer be rebuilt from the log.
	MaxAge time.Duration
	// Logger receives the warnings about settings that differ from the
	// existing streams; nil is slog.Default().
	Logger *slog.Logger
}

// DefaultDuplicates is the event stream's default duplicate window; the
// README says why ten minutes.
const DefaultDuplicates = 10 * time.Minute

// replayWindow is the duplicate window of the streams the calculator and
// the expiry write: their Nats-Msg-Ids (a dead letter's, a replay's) only
// guard a republish after a crash or a takeover, so it stays short
// whatever the idempotency window is.
const replayWindow = 2 * time.Minute

// DefaultConfig is a standalone deployment with DefaultPartitions.
func DefaultConfig() Config {
	return Config{Partitions: DefaultPartitions, Replicas: 1, Duplicates: DefaultDuplicates, Logger: slog.Default()}
}

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Partitions < 1 || c.Partitions > 1024 {
		errs = append(errs, fmt.Errorf("streams: partitions %d not in 1..1024", c.Partitions))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("streams: replicas %d not in 1..5", c.Replicas))
	}
	if c.Duplicates <= 0 {
		errs = append(errs, fmt.Errorf("streams: idempotency window (the event stream's duplicate window) %v must be positive", c.Duplicates))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("streams: max bytes %d must be 0 (unlimited) or positive", c.MaxBytes))
	}
	if c.MaxAge < 0 {
		errs = append(errs, fmt.Errorf("streams: max age %v must be 0 (unlimited) or positive", c.MaxAge))
	} else if c.MaxAge > 0 && c.MaxAge < c.Duplicates {
		// The server refuses a duplicates window longer than the age limit.
		errs = append(errs, fmt.Errorf("streams: max age %v is shorter than the duplicates window %v", c.MaxAge, c.Duplicates))
	}
	return errors.Join(errs...)
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// partitionTransform inserts the partition token that the server computes
// from the location and SKU tokens, so both kinds of one key share it.
func partitionTransform(n int) *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{
		Source:      root + ".*.*.*",
		Destination: root + ".{{wildcard(1)}}.{{partition(" + strconv.Itoa(n) + ",2,3)}}.{{wildcard(2)}}.{{wildcard(3)}}",
	}
}

// EventStreamConfig is the event log's definition.
func EventStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:             EventStream,
		Description:      "Inventory events: adjustments and reservations per location and SKU",
		Subjects:         eventSubjects(),
		SubjectTransform: partitionTransform(c.Partitions),
		Storage:          jetstream.FileStorage,
		Retention:        jetstream.LimitsPolicy,
		Replicas:         c.Replicas,
		Duplicates:       c.Duplicates,
		MaxBytes:         unlimited(c.MaxBytes),
		MaxAge:           c.MaxAge,
		// The log is the truth the view is rebuilt from: when it is full,
		// refuse new events (a 503 the client sees and retries) rather than
		// silently delete the oldest ones under a view that reflects them.
		Discard: jetstream.DiscardNew,
		// A cart reservation's lines and its record are stored all or
		// nothing (command.Decider).
		AllowAtomicPublish: true,
	}
}

// eventSubjects are the event stream's subjects: one filter per kind,
// in the order of the kinds (the seed's two first, as existing streams
// have them), then the cart reservations' own subjects.
func eventSubjects() []string {
	var out []string
	for _, k := range sellable.Kinds {
		out = append(out, EventSubjectFilter(k))
	}
	return append(out, CartFilter)
}

// EventSubjectFilter matches every published event of one kind.
func EventSubjectFilter(kind sellable.Kind) string {
	return root + "." + kindToken(kind) + ".*.*"
}

// SellableFilter matches every sellable change: the view buckets
// republish each value they store on inventory.sellable.<loc>.<sku>
// (kv.BucketConfig), for live subscribers; nothing stores them there.
const SellableFilter = root + ".sellable.*.*"

// SellableRepublish is the destination of the view buckets' RePublish:
// the key "<loc>.<sku>" of a bucket's subject $KV.<bucket>.<loc>.<sku>
// lands on inventory.sellable.<loc>.<sku>, which is SellableSubject.
const SellableRepublish = root + ".sellable.>"

// Retired are the streams an older version created and this one no
// longer uses. SELLABLE held a second copy of every change (issue 15.2);
// while it exists it also captures the buckets' republished changes, so
// it goes: Ensure warns at start while it is there, Plan lists its
// deletion, Apply deletes it. Delete it once no program of an older
// version runs (they publish their changes into it).
var Retired = []string{SellableStream}

// DeadLetterSubject is where a message from a partition that could not be
// applied is kept.
func DeadLetterSubject(p int) string {
	return root + ".deadletter." + strconv.Itoa(p)
}

// DeadLetterStreamConfig keeps rejected messages for a week.
func DeadLetterStreamConfig(c Config) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        DeadLetterStream,
		Description: "Inventory messages that could not be applied, with the reason",
		Subjects:    []string{root + ".deadletter.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      7 * 24 * time.Hour,
		Replicas:    c.Replicas,
		Duplicates:  replayWindow,
	}
}

// Configs are the definitions of every stream, in creation order.
func Configs(c Config) []jetstream.StreamConfig {
	return []jetstream.StreamConfig{EventStreamConfig(c), DeadLetterStreamConfig(c), ScheduleStreamConfig(c)}
}

// Ensure creates the streams that are missing and checks the others. It
// never changes an existing stream: every instance of every program calls
// it at start, and one started with a default (INVENTORY_REPLICAS=1) must
// not downgrade what the others rely on. A difference in partitions or
// subjects is refused (ErrPartitionCount, ErrSubjects): running with it
// would split keys between partitions or publish to subjects the stream
// does not store. Any other difference (replicas, duplicates window,
// limits, discard policy) is logged as a warning and the process runs with
// the existing value, which is safe for every one of them. Apply changes
// them on purpose. The one exception is an upgrade that only adds (new
// event subjects, atomic publish; see subjectsDiff): Ensure applies it,
// keeping every other setting as it is, because this version cannot run
// without it and it takes nothing away from older ones. A retired stream
// that still exists is warned about and left: deleting it is Apply's,
// once every program of an older version is gone.
func Ensure(ctx context.Context, js jetstream.JetStream, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	retired, err := retiredPresent(ctx, js)
	if err != nil {
		return err
	}
	for _, name := range retired {
		c.logger().Warn("retired stream still exists and stores every change a second time; delete it with `inventory admin apply` once no older program runs",
			"stream", name)
	}
	for _, want := range Configs(c) {
		have, err := lookup(ctx, js, want.Name)
		if err != nil {
			return err
		}
		if have == nil {
			_, err = js.CreateStream(ctx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				continue // another instance was first
			}
			if err != nil {
				return fmt.Errorf("streams: create %s: %w", want.Name, err)
			}
			continue
		}
		cs := Diff(*have, want)
		if err := drift.Check(c.logger(), cs); err != nil {
			return fmt.Errorf("streams: %w", err)
		}
		if up, ok := upgraded(*have, want, cs); ok {
			if err := upgrade(ctx, js, up); err != nil {
				return err
			}
			c.logger().Info("stream upgraded", "stream", want.Name, "subjects", up.Subjects, "allow_atomic_publish", up.AllowAtomicPublish)
		}
	}
	return nil
}

// upgradeTimeout bounds one upgrade: a role that may not update streams
// (natsauth) gets no answer to the request, only a permission violation
// on its connection, so the attempt would otherwise take the caller's
// whole context (app.Retry's, every program's start) to fail.
const upgradeTimeout = 2 * time.Second

// upgrade updates a stream to cfg within upgradeTimeout. Its error says
// how to make the upgrade for a program that may not: the program cannot
// run without it (see Ensure), and keeps retrying until it is made.
func upgrade(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	ctx, cancel := context.WithTimeout(ctx, upgradeTimeout)
	defer cancel()
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("streams: upgrade %s (if this program's role may not update streams, run `inventory admin apply`): %w", cfg.Name, err)
	}
	return nil
}

// Plan lists how the existing streams differ from c, without changing
// anything; a stream that does not exist yet is one change of "exists".
func Plan(ctx context.Context, js jetstream.JetStream, c Config) ([]drift.Change, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var cs []drift.Change
	for _, want := range Configs(c) {
		have, err := lookup(ctx, js, want.Name)
		if err != nil {
			return nil, err
		}
		if have == nil {
			cs = append(cs, drift.Change{Resource: "stream " + want.Name, Setting: "exists", Have: "no", Want: "yes"})
			continue
		}
		cs = append(cs, Diff(*have, want)...)
	}
	retired, err := retiredPresent(ctx, js)
	if err != nil {
		return nil, err
	}
	for _, name := range retired {
		cs = append(cs, drift.Change{Resource: "stream " + name, Setting: "exists", Have: "yes", Want: "no (retired)"})
	}
	return cs, nil
}

// retiredPresent are the Retired streams that exist.
func retiredPresent(ctx context.Context, js jetstream.JetStream) ([]string, error) {
	var out []string
	for _, name := range Retired {
		have, err := lookup(ctx, js, name)
		if err != nil {
			return nil, err
		}
		if have != nil {
			out = append(out, name)
		}
	}
	return out, nil
}

// Apply makes the streams what c says: it creates the missing ones,
// updates those that differ and deletes the Retired ones. It changes nothing when any difference is
// refused: a partition count is changed by a migration (see README), not
// by an update. It returns what it changed.
func Apply(ctx context.Context, js jetstream.JetStream, c Config) ([]drift.Change, error) {
	cs, err := Plan(ctx, js, c)
	if err != nil {
		return nil, err
	}
	if err := drift.Refused(cs); err != nil {
		return nil, fmt.Errorf("streams: %w", err)
	}
	changed := map[string]bool{}
	for _, ch := range cs {
		changed[ch.Resource] = true
	}
	for _, want := range Configs(c) {
		if !changed["stream "+want.Name] {
			continue
		}
		if _, err := js.CreateOrUpdateStream(ctx, want); err != nil {
			return nil, fmt.Errorf("streams: apply %s: %w", want.Name, err)
		}
	}
	for _, name := range Retired {
		if !changed["stream "+name] {
			continue
		}
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("streams: delete retired %s: %w", name, err)
		}
	}
	return cs, nil
}

// lookup is the existing configuration of a stream, nil when absent.
func lookup(ctx context.Context, js jetstream.JetStream, name string) (*jetstream.StreamConfig, error) {
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("streams: look up %s: %w", name, err)
	}
	cfg := s.CachedInfo().Config
	return &cfg, nil
}

// Diff compares the settings this package owns; the server fills others.
// Partitions and subjects are refused (see Ensure), the rest only differ.
func Diff(have, want jetstream.StreamConfig) []drift.Change {
	r := "stream " + want.Name
	var cs []drift.Change
	if !reflect.DeepEqual(have.SubjectTransform, want.SubjectTransform) {
		cs = append(cs, drift.Change{Resource: r, Setting: "partitions",
			Have: transformText(have.SubjectTransform), Want: transformText(want.SubjectTransform), Refuse: ErrPartitionCount})
	}
	cs = append(cs, subjectsDiff(r, have.Subjects, want.Subjects)...)
	if want.AllowAtomicPublish && !have.AllowAtomicPublish {
		cs = append(cs, drift.Change{Resource: r, Setting: "allow_atomic_publish", Have: "false", Want: "true", Upgrade: true})
	}
	cs = drift.Compare(cs, r, "replicas", have.Replicas, want.Replicas, nil)
	cs = drift.Compare(cs, r, "duplicates", have.Duplicates, want.Duplicates, nil)
	cs = drift.Compare(cs, r, "max_age", ageText(have.MaxAge), ageText(want.MaxAge), nil)
	cs = drift.Compare(cs, r, "max_bytes", limitText(have.MaxBytes), limitText(want.MaxBytes), nil)
	cs = drift.Compare(cs, r, "max_msgs_per_subject", limitText(have.MaxMsgsPerSubject), limitText(want.MaxMsgsPerSubject), nil)
	cs = drift.Compare(cs, r, "discard", have.Discard.String(), want.Discard.String(), nil)
	return cs
}

// subjectsDiff compares a stream's subjects. Subjects that are only
// added (an upgrade brought new event kinds) are an Upgrade: Ensure adds
// them, since this version publishes there, and nothing stored changes.
// Any subject the stream has and want lacks is refused: events stored
// there would be out of this version's reach.
func subjectsDiff(r string, have, want []string) []drift.Change {
	h, w := strings.Join(have, " "), strings.Join(want, " ")
	if h == w {
		return nil
	}
	wanted := map[string]bool{}
	for _, s := range want {
		wanted[s] = true
	}
	for _, s := range have {
		if !wanted[s] {
			return []drift.Change{{Resource: r, Setting: "subjects", Have: h, Want: w, Refuse: ErrSubjects}}
		}
	}
	return []drift.Change{{Resource: r, Setting: "subjects", Have: h, Want: w, Upgrade: true}}
}

// upgraded is have with what the upgrades among cs add: want's subjects,
// atomic publish. Every other setting stays as it is.
func upgraded(have, want jetstream.StreamConfig, cs []drift.Change) (jetstream.StreamConfig, bool) {
	up := false
	for _, c := range cs {
		if !c.Upgrade {
			continue
		}
		up = true
		switch c.Setting {
		case "subjects":
			have.Subjects = want.Subjects
		case "allow_atomic_publish":
			have.AllowAtomicPublish = true
		}
	}
	return have, up
}

// transformText names a partition transform by its partition count, or
// shows it whole when it is not one of ours.
func transformText(t *jetstream.SubjectTransformConfig) string {
	if t == nil {
		return "none (no partition transform)"
	}
	if n, ok := transformPartitions(t); ok {
		return strconv.Itoa(n)
	}
	return "transform " + t.Source + " -> " + t.Destination
}

func transformPartitions(t *jetstream.SubjectTransformConfig) (int, bool) {
	_, rest, _ := strings.Cut(t.Destination, "{{partition(")
	num, _, _ := strings.Cut(rest, ",")
	n, err := strconv.Atoi(num)
	return n, err == nil && *partitionTransform(n) == *t
}

// Partitions reads the partition count from the existing event stream, so
// that services other than the one that created it need not be told.
func Partitions(ctx context.Context, js jetstream.JetStream) (int, error) {
	s, err := js.Stream(ctx, EventStream)
	if err != nil {
		return 0, fmt.Errorf("streams: look up %s: %w", EventStream, err)
	}
	tr := s.CachedInfo().Config.SubjectTransform
	if tr != nil {
		if n, ok := transformPartitions(tr); ok {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%w: stream %s has transform %v", ErrPartitionCount, EventStream, tr)
}

// unlimited is how the server reports a limit that is not set.
func unlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

func limitText(n int64) string {
	if n <= 0 {
		return "unlimited"
	}
	return strconv.FormatInt(n, 10)
}

func ageText(d time.Duration) string {
	if d <= 0 {
		return "unlimited"
	}
	return d.String()
}
