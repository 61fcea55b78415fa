package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/natstest"
)

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newStore opens a Store on its own connection to srv, as a separate
// registry process would.
func newStore(t *testing.T, srv *natstest.Server) *Store {
	t.Helper()
	_, js := natstest.Connect(t, srv.ClientURL())
	s, err := NewStore(testContext(t), js, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// record returns a distinct valid schema per name.
func record(name string) string {
	return fmt.Sprintf(`{"type":"record","name":%q,"fields":[{"name":"a","type":"string"}]}`, name)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		errs   int
	}{
		{"default", func(*Config) {}, 0},
		{"bad bucket", func(c *Config) { c.Bucket = "a.b" }, 1},
		{"no replicas", func(c *Config) { c.Replicas = 0 }, 1},
		{"bad level", func(c *Config) { c.DefaultLevel = "SOME" }, 1},
		{"negative event bounds", func(c *Config) { c.EventBounds.MaxDepth = -1 }, 1},
		{"everything", func(c *Config) { *c = Config{} }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.modify(&c)
			err := c.Validate()
			n := 0
			if err != nil {
				n = len(strings.Split(err.Error(), "\n"))
			}
			if n != tt.errs {
				t.Fatalf("Validate() = %v, want %d errors", err, tt.errs)
			}
		})
	}
}

func TestStoreRegister(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, natstest.Start(t))

	v1, err := s.Register(ctx, "orders-value", recA)
	if err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.ID < 1 {
		t.Fatalf("first registration = %+v", v1)
	}
	// Same schema, other spelling: no new version, same id.
	again, err := s.Register(ctx, "orders-value", ` { "name":"E", "type":"record", "fields":[{"type":"string","name":"a"}] } `)
	if err != nil {
		t.Fatal(err)
	}
	if again != v1 {
		t.Fatalf("re-registration = %+v, want %+v", again, v1)
	}
	// Same schema, other subject: new subject version 1, same global id.
	other, err := s.Register(ctx, "payments-value", recA)
	if err != nil {
		t.Fatal(err)
	}
	if other.ID != v1.ID || other.Version != 1 {
		t.Fatalf("other subject = %+v, want id %d version 1", other, v1.ID)
	}
	v2, err := s.Register(ctx, "orders-value", recABdef)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.ID == v1.ID {
		t.Fatalf("evolution = %+v", v2)
	}
	// An older version is still "already registered".
	if back, err := s.Register(ctx, "orders-value", recA); err != nil || back != v1 {
		t.Fatalf("re-register v1 = %+v, %v", back, err)
	}

	if _, err := s.Register(ctx, "orders-value", recAint); !errors.Is(err, ErrIncompatible) {
		t.Fatalf("incompatible: %v", err)
	}
	if _, err := s.Register(ctx, "orders-value", `{"type":"nope"}`); !errors.Is(err, ErrInvalidSchema) {
		t.Fatalf("invalid: %v", err)
	}

	versions, err := s.Versions(ctx, "orders-value")
	if err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("versions = %v, %v", versions, err)
	}
	subjects, err := s.Subjects(ctx)
	if err != nil || !slices.Equal(subjects, []string{"orders-value", "payments-value"}) {
		t.Fatalf("subjects = %v, %v", subjects, err)
	}
	latest, err := s.Version(ctx, "orders-value", Latest)
	if err != nil || latest.Version != 2 || latest.ID != v2.ID {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	if _, err := s.Version(ctx, "orders-value", 3); !errors.Is(err, ErrVersionNotFound) {
		t.Fatalf("version 3: %v", err)
	}
	if _, err := s.Version(ctx, "nobody", 1); !errors.Is(err, ErrSubjectNotFound) {
		t.Fatalf("unknown subject: %v", err)
	}
	if _, err := s.SchemaByID(ctx, 999); !errors.Is(err, ErrSchemaNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	found, err := s.Lookup(ctx, "orders-value", recABdef)
	if err != nil || found.Version != 2 || found.ID != v2.ID {
		t.Fatalf("lookup = %+v, %v", found, err)
	}
	if _, err := s.Lookup(ctx, "payments-value", recABdef); !errors.Is(err, ErrSchemaNotFound) {
		t.Fatalf("lookup elsewhere: %v", err)
	}
}

func TestStoreSubjectNames(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, natstest.Start(t))
	names := []string{"a.b.c-value", "with space", "wild*card>", "slash/ed", "ünï=cödé", "=2E"}
	for _, n := range names {
		if _, err := s.Register(ctx, n, record("R")); err != nil {
			t.Fatalf("register %q: %v", n, err)
		}
	}
	got, err := s.Subjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(names)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("subjects = %q, want %q", got, want)
	}
}

func TestStoreLevels(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, natstest.Start(t))
	if l, err := s.GlobalLevel(ctx); err != nil || l != Backward {
		t.Fatalf("default global = %q, %v", l, err)
	}
	if _, err := s.SubjectLevel(ctx, "x"); !errors.Is(err, ErrSubjectConfigNotFound) {
		t.Fatalf("unset subject level: %v", err)
	}
	if err := s.SetSubjectLevel(ctx, "x", None); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGlobalLevel(ctx, Full); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Level(ctx, "x"); err != nil || l != None {
		t.Fatalf("x = %q, %v", l, err)
	}
	if l, err := s.Level(ctx, "y"); err != nil || l != Full {
		t.Fatalf("y = %q, %v", l, err)
	}
	if err := s.SetGlobalLevel(ctx, "SIDEWAYS"); !errors.Is(err, ErrInvalidLevel) {
		t.Fatalf("bad level: %v", err)
	}
}

// Two registry instances on one bucket, many writers each: every schema
// gets exactly one id, no id names two schemas, and every subject's
// versions are 1..n, each holding the schema its registrant was told.
func TestStoreConcurrentInstances(t *testing.T) {
	ctx := testContext(t)
	srv := natstest.Start(t)
	stores := []*Store{newStore(t, srv), newStore(t, srv)}
	const subjects, perSubject = 3, 8
	for i := range subjects {
		if err := stores[0].SetSubjectLevel(ctx, fmt.Sprintf("s%d", i), None); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		subject, schema string
		sv              SchemaVersion
	}
	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
		errs    = make(chan error, 2*subjects*perSubject)
	)
	for i := range subjects {
		subject := fmt.Sprintf("s%d", i)
		for j := range perSubject {
			// Each schema is registered by both instances at once; half of
			// them also under a shared subject, so global dedup races too.
			schema := record(fmt.Sprintf("R%d", j))
			if j%2 == 1 {
				schema = record(fmt.Sprintf("S%d_%d", i, j))
			}
			for _, st := range stores {
				wg.Go(func() {
					sv, err := st.Register(ctx, subject, schema)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					results = append(results, result{subject, schema, sv})
					mu.Unlock()
				})
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	idOf := map[string]int{}           // schema -> id
	schemaOf := map[int]string{}       // id -> schema
	seen := map[string]SchemaVersion{} // subject/version -> registration
	for _, r := range results {
		if id, ok := idOf[r.schema]; ok && id != r.sv.ID {
			t.Errorf("schema %s got ids %d and %d", r.schema, id, r.sv.ID)
		}
		idOf[r.schema] = r.sv.ID
		if s, ok := schemaOf[r.sv.ID]; ok && s != r.schema {
			t.Errorf("id %d names %s and %s", r.sv.ID, s, r.schema)
		}
		schemaOf[r.sv.ID] = r.schema
		key := fmt.Sprintf("%s/%d", r.subject, r.sv.Version)
		if prev, ok := seen[key]; ok && prev.ID != r.sv.ID {
			t.Errorf("%s given to ids %d and %d", key, prev.ID, r.sv.ID)
		}
		seen[key] = r.sv
	}
	for id, schema := range schemaOf {
		got, err := stores[1].SchemaByID(ctx, id)
		if err != nil || got != mustParse(t, schema).normalized {
			t.Fatalf("id %d = %q, %v; want %s", id, got, err, schema)
		}
	}
	for i := range subjects {
		subject := fmt.Sprintf("s%d", i)
		for _, st := range stores {
			versions, err := st.Versions(ctx, subject)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, perSubject)
			for k := range want {
				want[k] = k + 1
			}
			if !slices.Equal(versions, want) {
				t.Fatalf("%s versions = %v, want %v", subject, versions, want)
			}
			for _, v := range versions {
				sv, err := st.Version(ctx, subject, v)
				if err != nil {
					t.Fatal(err)
				}
				if reg, ok := seen[fmt.Sprintf("%s/%d", subject, v)]; !ok || reg.ID != sv.ID {
					t.Fatalf("%s/%d holds id %d, registrant was told %+v", subject, v, sv.ID, reg)
				}
			}
		}
	}
}

// A registry that dies between claiming a schema's id and storing the
// schema under it leaves a fingerprint without a schema; the next
// registration of that schema completes the job instead of failing or
// handing out an id nobody can read.
func TestStoreHealsHalfRegisteredSchema(t *testing.T) {
	ctx := testContext(t)
	s := newStore(t, natstest.Start(t))
	p := mustParse(t, recA)
	id, err := s.nextID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.kv.Create(ctx, fingerprintKey(p.fingerprint), []byte(fmt.Sprint(id))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SchemaByID(ctx, id); !errors.Is(err, ErrSchemaNotFound) {
		t.Fatalf("before: %v", err)
	}
	sv, err := s.Register(ctx, "healed", recA)
	if err != nil || sv.ID != id {
		t.Fatalf("register = %+v, %v; want id %d", sv, err, id)
	}
	if got, err := s.SchemaByID(ctx, id); err != nil || got != p.normalized {
		t.Fatalf("after = %q, %v", got, err)
	}
}
