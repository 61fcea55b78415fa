package natsauth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/projection"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
)

// Nobody but the admin may manage a stream or bucket, and no person's
// role may delete a consumer (the projector's durable one among them).
func TestOnlyAdminManages(t *testing.T) {
	names := []string{streams.EventStream, streams.SellableStream, streams.DeadLetterStream,
		"KV_" + registry.DefaultBucket, "KV_" + natsauth.SecretsBucket}
	for i := range topology.Partitions {
		names = append(names, "KV_"+kv.BucketName(i))
	}
	for _, b := range calculator.BucketConfigs(calculator.DefaultConfig()) {
		names = append(names, "KV_"+b.Bucket)
	}
	var managed []string
	for _, n := range names {
		for _, op := range []string{"STREAM.CREATE.", "STREAM.UPDATE.", "STREAM.DELETE.", "STREAM.PURGE.",
			"STREAM.MSG.DELETE.", "STREAM.SNAPSHOT.", "STREAM.RESTORE.", "STREAM.LEADER.STEPDOWN.", "STREAM.PEER.REMOVE."} {
			managed = append(managed, "$JS.API."+op+n)
		}
	}
	managed = append(managed, "$JS.API.ACCOUNT.PURGE.X", "$JS.API.SERVER.REMOVE", "$JS.API.META.LEADER.STEPDOWN")
	people := []string{"$JS.API.CONSUMER.DELETE." + kv.StreamName(0) + "." + projection.ConsumerName("projector", 0)}

	for _, r := range natsauth.Roles {
		p, err := natsauth.Of(r, topology.Partitions)
		if err != nil {
			t.Fatal(err)
		}
		may := func(subject string) bool {
			for _, deny := range p.PublishDeny {
				if server.SubjectMatchesFilter(subject, deny) {
					return false
				}
			}
			for _, allow := range p.Publish {
				if server.SubjectMatchesFilter(subject, allow) {
					return true
				}
			}
			return false
		}
		for _, s := range managed {
			if may(s) != (r == natsauth.Admin) {
				t.Errorf("%s may publish %s: %v", r, s, may(s))
			}
		}
		// Only the calculator publishes dead letters.
		for _, s := range []string{"inventory.deadletter.3", "inventory.deadletter.a.b"} {
			if may(s) != (r == natsauth.Admin || r == natsauth.Calculator) {
				t.Errorf("%s may publish %s: %v", r, s, may(s))
			}
		}
		// Nobody publishes changes: the view buckets republish what they
		// store, so a change on inventory.sellable.> is always a stored
		// value. The deny is explicit for every role.
		if may("inventory.sellable.STL.1") != (r == natsauth.Admin) {
			t.Errorf("%s may publish inventory.sellable.STL.1", r)
		}
		if r != natsauth.Admin && !slices.Contains(p.PublishDeny, streams.SellableRepublish) {
			t.Errorf("%s: publish deny %v lacks %s", r, p.PublishDeny, streams.SellableRepublish)
		}
		// Only the intake import (and the admin) may publish on intake
		// subjects: the relay trusts their Nats-Request-Info.
		for _, s := range []string{"inventory.intake.adjustments.STL.1", "inventory.intake.reservations.STL.1"} {
			if may(s) != (r == natsauth.Admin) {
				t.Errorf("%s may publish %s: %v", r, s, may(s))
			}
		}
		if r == natsauth.Reader || r == natsauth.Publisher {
			for _, s := range people {
				if may(s) {
					t.Errorf("%s may publish %s", r, s)
				}
			}
		}
	}
	if _, err := natsauth.Of("root", 8); err == nil {
		t.Error("an unknown role has permissions")
	}
}

// The users file, as nats-server reads it, gives each role's key exactly
// the permissions Of says (the configuration language has variables and
// quoting of its own: "$JS.API..." must stay a subject).
func TestUsersFileHasEachRolesPermissions(t *testing.T) {
	dir := t.TempDir()
	keys, err := natsauth.Generate(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := natsembed.LoadUsers(filepath.Join(dir, natsauth.UsersFile))
	nkeyUsers, users := loaded.Nkeys, loaded.Users
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 || len(nkeyUsers) != len(natsauth.Roles) {
		t.Fatalf("%d nkey users and %d others, want %d nkey users", len(nkeyUsers), len(users), len(natsauth.Roles))
	}
	byKey := map[string]*server.NkeyUser{}
	for _, u := range nkeyUsers {
		byKey[u.Nkey] = u
	}
	for _, r := range natsauth.Roles {
		u := byKey[keys[r]]
		if u == nil {
			t.Fatalf("no user for %s", r)
		}
		if u.Account == nil || u.Account.Name != natsauth.AccountOf(r) {
			t.Errorf("%s is in account %v, want %s", r, u.Account, natsauth.AccountOf(r))
		}
		if r == natsauth.Admin {
			if u.Permissions != nil {
				t.Errorf("admin has permissions %+v, want none (everything)", u.Permissions)
			}
			continue
		}
		p, err := natsauth.Of(r, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := p.Server()
		if !reflect.DeepEqual(u.Permissions.Publish, want.Publish) || !reflect.DeepEqual(u.Permissions.Subscribe, want.Subscribe) ||
			!reflect.DeepEqual(u.Permissions.Response, want.Response) {
			t.Errorf("%s: file gives publish %+v subscribe %+v responses %+v, want %+v %+v %+v", r,
				u.Permissions.Publish, u.Permissions.Subscribe, u.Permissions.Response, want.Publish, want.Subscribe, want.Response)
		}
	}
	// Each seed file holds the key the file names.
	for _, r := range natsauth.Roles {
		seed, err := os.ReadFile(filepath.Join(dir, natsauth.SeedFile(r)))
		if err != nil {
			t.Fatal(err)
		}
		kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
		if err != nil {
			t.Fatal(err)
		}
		if pub, _ := kp.PublicKey(); pub != keys[r] {
			t.Errorf("%s's seed is for %s, the file names %s", r, pub, keys[r])
		}
		if st, err := os.Stat(filepath.Join(dir, natsauth.SeedFile(r))); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s's seed: %v, mode %v; want 0600", r, err, st.Mode().Perm())
		}
	}
}
