package natsauth_test

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
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
	people := []string{"$JS.API.CONSUMER.DELETE." + streams.SellableStream + ".projector"}

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
		// Only the calculator announces changes and dead letters.
		for _, s := range []string{"inventory.sellable.STL.1", "inventory.deadletter.3", "inventory.deadletter.a.b"} {
			if may(s) != (r == natsauth.Admin || r == natsauth.Calculator) {
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
