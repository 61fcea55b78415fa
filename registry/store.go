package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/hamba/avro/v2"
	"github.com/nats-io/nats.go/jetstream"

	ikv "github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// DefaultBucket is the KV bucket a registry uses unless configured.
const DefaultBucket = "schema_registry"

// Latest asks Version for the newest version of a subject.
const Latest = -1

// maxAttempts bounds every compare-and-set loop. Each lost round means
// another writer succeeded, so this is only reached under heavy contention
// on a single subject or on the id counter.
const maxAttempts = 100

// Key layout; see doc.go.
const (
	keyIDCounter        = "ids.last"
	keyIDPrefix         = "ids."
	keyFingerprintPfx   = "fingerprints."
	keySubjectPrefix    = "subjects."
	keyGlobalConfig     = "config.global"
	keySubjectConfigPfx = "config.subjects."
)

func idKey(id int) string                { return keyIDPrefix + strconv.Itoa(id) }
func fingerprintKey(fp string) string    { return keyFingerprintPfx + fp }
func subjectKey(subject string) string   { return keySubjectPrefix + streams.EncodeToken(subject) }
func subjectConfigKey(sub string) string { return keySubjectConfigPfx + streams.EncodeToken(sub) }

// Config sets up a Store.
type Config struct {
	// Bucket is the KV bucket holding the registry.
	Bucket string
	// Replicas is 1 standalone, 3 on a three-node cluster.
	Replicas int
	// DefaultLevel is the global compatibility level until one is set.
	DefaultLevel Level
	// MaxSchemaBytes limits a normalized schema; it must fit a NATS
	// message together with its JSON envelope.
	MaxSchemaBytes int
	// Logger receives the warning when the existing bucket's settings
	// differ from these; nil is slog.Default().
	Logger *slog.Logger
	// EventBounds limits the schemas registered under the inventory's
	// own subjects (wire.Schemas): the decoders of the inventory
	// refuse messages written with a schema out of these bounds, so
	// registering one there can only produce dead letters. Zero fields
	// take wire.DefaultSchemaBounds'. Other subjects take any valid
	// Avro, recursive types included, as Confluent's registry does.
	EventBounds wire.SchemaBounds
}

// DefaultConfig is a standalone registry with Confluent's defaults.
func DefaultConfig() Config {
	return Config{Bucket: DefaultBucket, Replicas: 1, DefaultLevel: Backward, MaxSchemaBytes: 256 << 10,
		EventBounds: wire.DefaultSchemaBounds()}
}

var bucketName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if !bucketName.MatchString(c.Bucket) {
		errs = append(errs, fmt.Errorf("registry: bucket %q must match %s", c.Bucket, bucketName))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("registry: replicas %d not in 1..5", c.Replicas))
	}
	if _, err := ParseLevel(string(c.DefaultLevel)); err != nil {
		errs = append(errs, fmt.Errorf("registry: default level: %w", err))
	}
	if c.MaxSchemaBytes < 1 {
		errs = append(errs, fmt.Errorf("registry: max schema bytes %d must be positive", c.MaxSchemaBytes))
	}
	if err := c.EventBounds.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("registry: event bounds: %w", err))
	}
	return errors.Join(errs...)
}

// SchemaVersion is one version of a subject.
type SchemaVersion struct {
	Subject string
	Version int
	ID      int
	// Schema is the normalized schema text.
	Schema string
}

// Store is the registry state in a JetStream KV bucket. It is safe for
// concurrent use, and any number of Stores (in any number of processes)
// may share a bucket.
type Store struct {
	kv             jetstream.KeyValue
	defaultLevel   Level
	maxSchemaBytes int
	eventBounds    wire.SchemaBounds

	// parsedByID caches schemas by id for compatibility checks; an id's
	// schema never changes once written.
	parsedByID sync.Map // int -> avro.Schema
}

// BucketConfig is the definition of the registry's bucket.
func BucketConfig(cfg Config) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Confluent-compatible Avro schema registry",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	}
}

// NewStore creates the bucket if needed and returns a Store on it.
func NewStore(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Never create-or-update: the bucket is shared by every program, and one
	// started with another INVENTORY_REPLICAS must not change it for all.
	kv, err := ikv.Ensure(ctx, js, BucketConfig(cfg), cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("registry: bucket %s: %w", cfg.Bucket, err)
	}
	level, _ := ParseLevel(string(cfg.DefaultLevel))
	return &Store{kv: kv, defaultLevel: level, maxSchemaBytes: cfg.MaxSchemaBytes, eventBounds: cfg.EventBounds}, nil
}

// subjectRecord is the value of subjects.<token>: every version of the
// subject, oldest first. The whole record is replaced by compare-and-set,
// which is what makes version numbers unique and the compatibility check
// see exactly the versions the new one is appended to.
type subjectRecord struct {
	Subject  string       `json:"subject"`
	Versions []versionRef `json:"versions"`
}

type versionRef struct {
	Version int `json:"version"`
	ID      int `json:"id"`
}

// schemaRecord is the value of ids.<id>.
type schemaRecord struct {
	Schema     string `json:"schema"`
	SchemaType string `json:"schemaType"`
}

// configRecord is the value of the config keys.
type configRecord struct {
	CompatibilityLevel Level `json:"compatibilityLevel"`
}

func (r subjectRecord) byID(id int) (versionRef, bool) {
	for _, v := range r.Versions {
		if v.ID == id {
			return v, true
		}
	}
	return versionRef{}, false
}

func (r subjectRecord) byVersion(version int) (versionRef, bool) {
	if version == Latest && len(r.Versions) > 0 {
		return r.Versions[len(r.Versions)-1], true
	}
	for _, v := range r.Versions {
		if v.Version == version {
			return v, true
		}
	}
	return versionRef{}, false
}

// Register adds schema to subject as a new version, unless the subject
// already has it, and returns that version. The schema gets the global id
// of an identical schema registered under any subject, or a new one.
func (s *Store) Register(ctx context.Context, subject, schema string) (SchemaVersion, error) {
	if err := validateSubject(subject); err != nil {
		return SchemaVersion{}, err
	}
	p, err := s.parseFor(subject, schema)
	if err != nil {
		return SchemaVersion{}, fmt.Errorf("register under %q: %w", subject, err)
	}
	sv, err := s.register(ctx, subject, p)
	if err != nil {
		return SchemaVersion{}, fmt.Errorf("register under %q: %w", subject, err)
	}
	return sv, nil
}

func (s *Store) register(ctx context.Context, subject string, p parsed) (SchemaVersion, error) {
	id, err := s.idOf(ctx, p.fingerprint)
	if err != nil && !errors.Is(err, ErrSchemaNotFound) {
		return SchemaVersion{}, err
	}
	stored := false
	for range maxAttempts {
		rec, rev, err := s.subject(ctx, subject)
		if err != nil && !errors.Is(err, ErrSubjectNotFound) {
			return SchemaVersion{}, err
		}
		if v, ok := rec.byID(id); ok {
			return SchemaVersion{Subject: subject, Version: v.Version, ID: v.ID, Schema: p.normalized}, nil
		}
		level, err := s.Level(ctx, subject)
		if err != nil {
			return SchemaVersion{}, err
		}
		if err := s.check(ctx, level, p.schema, rec.Versions); err != nil {
			return SchemaVersion{}, err
		}
		if !stored {
			// Only now: an incompatible schema must not use up an id.
			if id, err = s.ensureID(ctx, p); err != nil {
				return SchemaVersion{}, err
			}
			stored = true
			// Another instance may have claimed the schema and added it to
			// this subject since the lookup above.
			if v, ok := rec.byID(id); ok {
				return SchemaVersion{Subject: subject, Version: v.Version, ID: v.ID, Schema: p.normalized}, nil
			}
		}
		next := 1
		if n := len(rec.Versions); n > 0 {
			next = rec.Versions[n-1].Version + 1
		}
		rec.Subject = subject
		rec.Versions = append(rec.Versions, versionRef{Version: next, ID: id})
		err = s.putSubject(ctx, rec, rev)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return SchemaVersion{}, err
		}
		return SchemaVersion{Subject: subject, Version: next, ID: id, Schema: p.normalized}, nil
	}
	return SchemaVersion{}, fmt.Errorf("%w: subject %q", ErrContention, subject)
}

// parseFor parses a schema to be registered under subject: any valid
// Avro, and within the event bounds under the inventory's own subjects.
func (s *Store) parseFor(subject, schema string) (parsed, error) {
	p, err := parseSchema(schema, s.maxSchemaBytes)
	if err != nil {
		return parsed{}, err
	}
	if _, ok := wire.Schemas()[subject]; ok {
		if err := s.eventBounds.Check(p.normalized); err != nil {
			return parsed{}, fmt.Errorf("%w: %w", ErrInvalidSchema, err)
		}
	}
	return p, nil
}

// ensureID returns the global id of a normalized schema, allocating one
// if no subject has it yet, and makes sure the schema is stored under it.
//
// The fingerprint key is the claim: whoever creates it first owns the
// schema's id, so one schema has exactly one id. A racer that loses the
// claim leaves a gap in the ids. The schema is stored under the id after
// the claim, by the claimer or by anyone who finds it missing (the
// fingerprint fixes its content), so a crash in between heals on the next
// registration of that schema and no id is handed out before its schema
// can be read.
func (s *Store) ensureID(ctx context.Context, p parsed) (int, error) {
	id, err := s.idOf(ctx, p.fingerprint)
	if errors.Is(err, ErrSchemaNotFound) {
		var n int
		if n, err = s.nextID(ctx); err != nil {
			return 0, err
		}
		_, err = s.kv.Create(ctx, fingerprintKey(p.fingerprint), []byte(strconv.Itoa(n)))
		switch {
		case err == nil:
			id = n
		case isConflict(err):
			id, err = s.idOf(ctx, p.fingerprint)
		default:
			err = fmt.Errorf("claim fingerprint for id %d: %w", n, err)
		}
	}
	if err != nil {
		return 0, err
	}
	if err := s.storeSchema(ctx, id, p); err != nil {
		return 0, err
	}
	return id, nil
}

// storeSchema makes sure ids.<id> holds p.
func (s *Store) storeSchema(ctx context.Context, id int, p parsed) error {
	if _, ok := s.parsedByID.Load(id); ok {
		return nil // read back before, so stored
	}
	text, err := s.SchemaByID(ctx, id)
	if err == nil {
		if text != p.normalized {
			return fmt.Errorf("%w: id %d holds another schema than its fingerprint", ErrCorrupt, id)
		}
		return nil
	}
	if !errors.Is(err, ErrSchemaNotFound) {
		return err
	}
	val, err := json.Marshal(schemaRecord{Schema: p.normalized, SchemaType: schemaTypeAvro})
	if err != nil {
		return err
	}
	if _, err := s.kv.Create(ctx, idKey(id), val); err != nil && !isConflict(err) {
		return fmt.Errorf("store schema %d: %w", id, err)
	}
	return nil
}

// nextID allocates a schema id by compare-and-set on the counter. An id
// lost to a crash or a lost claim is a gap, never a duplicate.
func (s *Store) nextID(ctx context.Context) (int, error) {
	for range maxAttempts {
		e, err := s.kv.Get(ctx, keyIDCounter)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			_, err = s.kv.Create(ctx, keyIDCounter, []byte("1"))
			if err == nil {
				return 1, nil
			}
			if isConflict(err) {
				continue
			}
		}
		if err != nil {
			return 0, fmt.Errorf("allocate id: %w", err)
		}
		last, err := strconv.Atoi(string(e.Value()))
		if err != nil || last < 1 {
			return 0, fmt.Errorf("%w: id counter %q", ErrCorrupt, e.Value())
		}
		next := last + 1
		_, err = s.kv.Update(ctx, keyIDCounter, []byte(strconv.Itoa(next)), e.Revision())
		if err == nil {
			return next, nil
		}
		if !isConflict(err) {
			return 0, fmt.Errorf("allocate id: %w", err)
		}
	}
	return 0, fmt.Errorf("%w: id counter", ErrContention)
}

// isConflict reports a lost compare-and-set: Create finds the key, or
// Update finds another revision.
func isConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// check loads the schemas of versions and checks candidate against them.
func (s *Store) check(ctx context.Context, level Level, candidate avro.Schema, versions []versionRef) error {
	if level == None || len(versions) == 0 {
		return nil
	}
	if !level.transitive() {
		versions = versions[len(versions)-1:]
	}
	existing := make([]versioned, 0, len(versions))
	for _, v := range versions {
		sch, err := s.parsedSchema(ctx, v.ID)
		if err != nil {
			return err
		}
		existing = append(existing, versioned{version: v.Version, schema: sch})
	}
	return checkCompatible(level, candidate, existing)
}

// CheckCompatibility reports whether schema could follow subject's
// versions: with version 0, the ones registration checks under the
// subject's level; otherwise only the given version (or Latest), in the
// level's direction. It returns an error wrapping ErrIncompatible if not.
// A subject with no versions accepts anything when version is 0.
func (s *Store) CheckCompatibility(ctx context.Context, subject, schema string, version int) error {
	if err := validateSubject(subject); err != nil {
		return err
	}
	p, err := s.parseFor(subject, schema)
	if err != nil {
		return err
	}
	rec, _, err := s.subject(ctx, subject)
	if err != nil && (version != 0 || !errors.Is(err, ErrSubjectNotFound)) {
		return err
	}
	level, err := s.Level(ctx, subject)
	if err != nil {
		return err
	}
	versions := rec.Versions
	if version != 0 {
		v, ok := rec.byVersion(version)
		if !ok {
			return fmt.Errorf("subject %q version %d: %w", subject, version, ErrVersionNotFound)
		}
		versions = []versionRef{v}
	}
	return s.check(ctx, level, p.schema, versions)
}

// Lookup finds the version of subject that has schema.
func (s *Store) Lookup(ctx context.Context, subject, schema string) (SchemaVersion, error) {
	if err := validateSubject(subject); err != nil {
		return SchemaVersion{}, err
	}
	p, err := parseSchema(schema, s.maxSchemaBytes)
	if err != nil {
		return SchemaVersion{}, err
	}
	rec, _, err := s.subject(ctx, subject)
	if err != nil {
		return SchemaVersion{}, err
	}
	id, err := s.idOf(ctx, p.fingerprint)
	if err != nil {
		return SchemaVersion{}, err
	}
	v, ok := rec.byID(id)
	if !ok {
		return SchemaVersion{}, fmt.Errorf("under subject %q: %w", subject, ErrSchemaNotFound)
	}
	return SchemaVersion{Subject: subject, Version: v.Version, ID: v.ID, Schema: p.normalized}, nil
}

// Version returns one version of subject, or its newest with Latest.
func (s *Store) Version(ctx context.Context, subject string, version int) (SchemaVersion, error) {
	if err := validateSubject(subject); err != nil {
		return SchemaVersion{}, err
	}
	rec, _, err := s.subject(ctx, subject)
	if err != nil {
		return SchemaVersion{}, err
	}
	v, ok := rec.byVersion(version)
	if !ok {
		return SchemaVersion{}, fmt.Errorf("subject %q version %d: %w", subject, version, ErrVersionNotFound)
	}
	schema, err := s.SchemaByID(ctx, v.ID)
	if err != nil {
		return SchemaVersion{}, err
	}
	return SchemaVersion{Subject: subject, Version: v.Version, ID: v.ID, Schema: schema}, nil
}

// Versions lists the version numbers of subject, ascending.
func (s *Store) Versions(ctx context.Context, subject string) ([]int, error) {
	if err := validateSubject(subject); err != nil {
		return nil, err
	}
	rec, _, err := s.subject(ctx, subject)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(rec.Versions))
	for i, v := range rec.Versions {
		out[i] = v.Version
	}
	return out, nil
}

// Subjects lists every subject with at least one version, sorted.
func (s *Store) Subjects(ctx context.Context) ([]string, error) {
	// Keys hold subjects in encoded form; the names come from the values,
	// which one watcher delivers in a single pass.
	w, err := s.kv.Watch(ctx, keySubjectPrefix+"*", jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list subjects: %w", err)
	}
	defer func() { _ = w.Stop() }()
	out := []string{}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list subjects: %w", ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("list subjects: watcher stopped")
			}
			if e == nil { // initial values done
				slices.Sort(out)
				return out, nil
			}
			var rec subjectRecord
			if err := json.Unmarshal(e.Value(), &rec); err != nil {
				return nil, fmt.Errorf("%w: key %s: %v", ErrCorrupt, e.Key(), err)
			}
			if len(rec.Versions) > 0 {
				out = append(out, rec.Subject)
			}
		}
	}
}

// SchemaByID returns the normalized schema with id.
func (s *Store) SchemaByID(ctx context.Context, id int) (string, error) {
	if id < 1 {
		return "", fmt.Errorf("id %d: %w", id, ErrSchemaNotFound)
	}
	e, err := s.kv.Get(ctx, idKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("id %d: %w", id, ErrSchemaNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("get schema %d: %w", id, err)
	}
	var rec schemaRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return "", fmt.Errorf("%w: schema %d: %v", ErrCorrupt, id, err)
	}
	return rec.Schema, nil
}

// parsedSchema is SchemaByID parsed, cached.
func (s *Store) parsedSchema(ctx context.Context, id int) (avro.Schema, error) {
	if sch, ok := s.parsedByID.Load(id); ok {
		return sch.(avro.Schema), nil
	}
	text, err := s.SchemaByID(ctx, id)
	if err != nil {
		return nil, err
	}
	sch, err := parseAvro(text)
	if err != nil {
		return nil, fmt.Errorf("%w: schema %d: %v", ErrCorrupt, id, err)
	}
	s.parsedByID.Store(id, sch)
	return sch, nil
}

// idOf returns the id of a normalized schema's fingerprint.
func (s *Store) idOf(ctx context.Context, fp string) (int, error) {
	e, err := s.kv.Get(ctx, fingerprintKey(fp))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, ErrSchemaNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("get fingerprint: %w", err)
	}
	id, err := strconv.Atoi(string(e.Value()))
	if err != nil || id < 1 {
		return 0, fmt.Errorf("%w: fingerprint %s: id %q", ErrCorrupt, fp, e.Value())
	}
	return id, nil
}

// subject reads a subject's record and revision. A missing subject is an
// empty record, revision 0 and ErrSubjectNotFound.
func (s *Store) subject(ctx context.Context, subject string) (subjectRecord, uint64, error) {
	e, err := s.kv.Get(ctx, subjectKey(subject))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return subjectRecord{Subject: subject}, 0, fmt.Errorf("subject %q: %w", subject, ErrSubjectNotFound)
	}
	if err != nil {
		return subjectRecord{}, 0, fmt.Errorf("get subject %q: %w", subject, err)
	}
	var rec subjectRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return subjectRecord{}, 0, fmt.Errorf("%w: subject %q: %v", ErrCorrupt, subject, err)
	}
	if len(rec.Versions) == 0 {
		return rec, e.Revision(), fmt.Errorf("subject %q: %w", subject, ErrSubjectNotFound)
	}
	return rec, e.Revision(), nil
}

// putSubject writes rec if the subject is still at revision rev (0: does
// not exist yet). A lost race is a conflict error (see isConflict).
func (s *Store) putSubject(ctx context.Context, rec subjectRecord, rev uint64) error {
	val, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = s.kv.Create(ctx, subjectKey(rec.Subject), val)
	} else {
		_, err = s.kv.Update(ctx, subjectKey(rec.Subject), val, rev)
	}
	if err != nil {
		return fmt.Errorf("put subject %q: %w", rec.Subject, err)
	}
	return nil
}

// GlobalLevel is the compatibility level of subjects without their own.
func (s *Store) GlobalLevel(ctx context.Context) (Level, error) {
	l, err := s.level(ctx, keyGlobalConfig)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return s.defaultLevel, nil
	}
	return l, err
}

// SetGlobalLevel sets the compatibility level of subjects without their own.
func (s *Store) SetGlobalLevel(ctx context.Context, level Level) error {
	return s.setLevel(ctx, keyGlobalConfig, level)
}

// SubjectLevel is subject's own compatibility level, or an error wrapping
// ErrSubjectConfigNotFound if it follows the global one.
func (s *Store) SubjectLevel(ctx context.Context, subject string) (Level, error) {
	if err := validateSubject(subject); err != nil {
		return "", err
	}
	l, err := s.level(ctx, subjectConfigKey(subject))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", fmt.Errorf("subject %q: %w", subject, ErrSubjectConfigNotFound)
	}
	return l, err
}

// SetSubjectLevel gives subject a compatibility level of its own. The
// subject need not exist yet.
func (s *Store) SetSubjectLevel(ctx context.Context, subject string, level Level) error {
	if err := validateSubject(subject); err != nil {
		return err
	}
	return s.setLevel(ctx, subjectConfigKey(subject), level)
}

// Level is the compatibility level in force for subject.
func (s *Store) Level(ctx context.Context, subject string) (Level, error) {
	l, err := s.SubjectLevel(ctx, subject)
	if errors.Is(err, ErrSubjectConfigNotFound) {
		return s.GlobalLevel(ctx)
	}
	return l, err
}

func (s *Store) level(ctx context.Context, key string) (Level, error) {
	e, err := s.kv.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", key, err)
	}
	var rec configRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	l, err := ParseLevel(string(rec.CompatibilityLevel))
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrCorrupt, key, err)
	}
	return l, nil
}

func (s *Store) setLevel(ctx context.Context, key string, level Level) error {
	l, err := ParseLevel(string(level))
	if err != nil {
		return err
	}
	val, err := json.Marshal(configRecord{CompatibilityLevel: l})
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, key, val); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}
