package natsauth

import (
	"fmt"
	"slices"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sellable/inventory/calculator"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// Role is what a connection may do; its name is the NATS user's name.
type Role string

// The roles. Admin may do anything, including stream and bucket
// management; each other role may do what one program (or a person with
// the nats CLI) needs.
const (
	Admin      Role = "admin"
	Mutator    Role = "mutator"    // the command API: publishes events
	Calculator Role = "calculator" // folds INVENTORY into the view; serves queries
	Projector  Role = "projector"  // sellable-service: reads the view buckets' streams
	Registry   Role = "registry"   // the schema registry program
	Publisher  Role = "publisher"  // `nats pub` of adjustments and reservations
	Reader     Role = "reader"     // reads the view and the changes
)

// SecretsBucket holds the deployment's secrets (the idempotency ID key,
// see app.OpenIDKey): only the admin and the mutator read it.
const SecretsBucket = "inventory_secrets"

// Roles lists every role, admin first.
var Roles = []Role{Admin, Mutator, Calculator, Projector, Registry, Publisher, Reader}

// Permissions is what a role may publish and subscribe to. Allow lists
// are exhaustive: a subject they do not match is refused.
type Permissions struct {
	Publish   []string
	Subscribe []string
	// PublishDeny carves subjects out of Publish.
	PublishDeny []string
	// Responses lets the role answer the requests it receives (the
	// server's allow_responses): the mutator's intake relay answers each
	// publisher with its PubAck.
	Responses bool
}

// jsAPI is JetStream's API prefix in the inventory's account.
const jsAPI = "$JS.API."

// InboxPrefix is where role r's replies come back (nats.CustomInboxPrefix):
// JetStream API answers, publish acks, the messages of ordered consumers
// and KV watchers. Each role may subscribe only to its own, so that no
// role reads another's replies (the mutator's read of the idempotency ID
// key among them), and no role but the admin may publish to any inbox,
// so that nobody forges a reply to someone else. The admin keeps the
// default, _INBOX.
func InboxPrefix(r Role) string {
	if r == Admin {
		return "_INBOX"
	}
	return "_INBOX." + string(r)
}

// perms gathers subjects per role; deny carves out of pub. cleanup lets the role delete the
// consumers of the streams it reads: the programs' ordered consumers and
// watchers delete theirs when they stop or reset. A person's role does
// without (an ephemeral consumer goes away by itself once inactive), so
// that a reader cannot delete the projector's durable consumer.
type perms struct {
	pub, sub, deny []string
	cleanup        bool
	responses      bool
}

func (p *perms) publish(s ...string)   { p.pub = append(p.pub, s...) }
func (p *perms) subscribe(s ...string) { p.sub = append(p.sub, s...) }

// info lets the role look streams up, as every program does at start to
// check that they exist (and warn when their settings drifted).
func (p *perms) info(stream ...string) {
	for _, s := range stream {
		p.publish(jsAPI + "STREAM.INFO." + s)
	}
}

// read lets the role read a stream: look it up, get messages (direct or
// through the leader) and run ephemeral consumers (ordered consumers, KV
// watchers), which are created, asked for more and flow-controlled on
// these subjects.
func (p *perms) read(stream string) {
	p.info(stream)
	p.publish(
		jsAPI+"DIRECT.GET."+stream+".>",
		jsAPI+"STREAM.MSG.GET."+stream,
		jsAPI+"CONSUMER.CREATE."+stream+".>",
		jsAPI+"CONSUMER.MSG.NEXT."+stream+".*",
		"$JS.FC."+stream+".>",
	)
	if p.cleanup {
		p.publish(jsAPI + "CONSUMER.DELETE." + stream + ".*")
	}
}

// durable lets the role keep a durable consumer on stream and ack it.
func (p *perms) durable(stream string) {
	p.read(stream)
	p.publish("$JS.ACK." + stream + ".>")
}

// readBucket lets the role read a KV bucket: get and watch its keys.
func (p *perms) readBucket(bucket string) { p.read("KV_" + bucket) }

// writeBucket lets the role also put, create, update and delete its keys
// (a KV write is a publish to $KV.<bucket>.<key>).
func (p *perms) writeBucket(bucket string) {
	p.readBucket(bucket)
	p.publish("$KV." + bucket + ".>")
}

// Of is the permissions of role r in a deployment of the given number of
// partitions (the view is one bucket per partition, and a subject
// permission has no partial-token wildcard).
func Of(r Role, partitions int) (Permissions, error) {
	var p perms
	inbox := InboxPrefix(r) + ".>"
	views := make([]string, partitions)
	for i := range views {
		views[i] = kv.BucketName(i)
	}
	events, dlq := streams.EventStream, streams.DeadLetterStream
	reg, secrets := registry.DefaultBucket, SecretsBucket
	// Every program checks the streams at start, and whether the retired
	// ones are still there (streams.Ensure warns about them).
	programs := func() {
		p.cleanup = true
		p.info(events, dlq, streams.ScheduleStream)
		p.info(streams.Retired...)
		p.subscribe(inbox)
	}
	// The query programs (the calculator, sellable-service) serve what
	// operators watch (app.RegisterLive): the feed, which reads each view
	// bucket's stream with ordered consumers (read, and delete them:
	// cleanup), and the dead letters, read back one by one by sequence
	// (jsfeed.DeadLetters: messages only, no consumer; the stream has no
	// direct get). The HTTP API decides who may see them.
	live := func() {
		for _, v := range views {
			p.readBucket(v)
		}
		p.publish(jsAPI + "STREAM.MSG.GET." + dlq)
	}
	// Nobody publishes changes: the view buckets' RePublish does, inside
	// the server (kv.BucketConfig), so a change on inventory.sellable.>
	// is always a value the bucket stored. The allow lists would refuse
	// it anyway except where a wildcard covers it (the mutator's); the
	// deny says so for every role.
	if r != Admin {
		p.deny = append(p.deny, streams.SellableRepublish)
	}
	// The programs find their schemas in the registry's bucket, where
	// `inventory admin apply` registered them; only the registry program
	// writes it (registry:write over HTTP).
	switch r {
	case Admin:
		return Permissions{Publish: []string{">"}, Subscribe: []string{">"}}, nil
	case Mutator:
		programs()
		// Every kind of event the command API records (inventory.<kind>.
		// <loc>.<sku>, as the event stream's transform takes them), but not
		// the calculator's changes.
		p.publish(allKinds)
		p.deny = append(p.deny, "inventory.deadletter.>")
		// The secret that keys its Nats-Msg-Ids.
		p.readBucket(secrets)
		// A duplicate ack is checked against the stored original.
		p.read(events)
		p.readBucket(reg)
		// Cart reservations: their records on inventory.carts.<id>, and the
		// positions they decide on.
		p.publish(streams.CartFilter)
		for _, v := range views {
			p.readBucket(v)
		}
		// Each reservation's expiry: its schedule, and the relay's durable
		// consumer of the fired ones. Nobody else may publish there: the
		// schedule stream allows rollups (expiry/doc.go).
		p.publish(streams.ScheduleFilter)
		p.durable(streams.ScheduleStream)
		// The intake relay: events the publisher role published, which
		// it stores with their publisher as the source, answering each
		// with its PubAck (package intake).
		p.subscribe(streams.IntakeFilter)
		p.responses = true
	case Calculator:
		programs()
		p.read(events)
		p.publish("inventory.deadletter.>")
		p.readBucket(reg)
		// The leases and the replay points.
		for _, b := range calculator.BucketConfigs(calculator.DefaultConfig()) {
			p.writeBucket(b.Bucket)
		}
		for _, v := range views {
			p.writeBucket(v)
		}
		live()
	case Projector:
		programs()
		// One durable consumer on each view bucket's stream
		// (projection.ConsumerConfig).
		for _, v := range views {
			p.durable("KV_" + v)
		}
		p.readBucket(reg)
		live()
	case Registry:
		programs()
		p.writeBucket(reg)
	case Publisher:
		// In its own account (AccountOf), where these subjects lead only
		// to the intake relay, through the import Generate writes.
		p.publish(eventSubjects...)
		p.subscribe(inbox)
	case Reader:
		// The live changes the buckets republish, and the buckets
		// themselves: their keys and their streams (the change log).
		p.subscribe(inbox, streams.SellableFilter)
		p.readBucket(reg)
		for _, v := range views {
			p.readBucket(v)
		}
	default:
		return Permissions{}, fmt.Errorf("natsauth: unknown role %q", r)
	}
	return Permissions{Publish: dedupe(p.pub), Subscribe: dedupe(p.sub), PublishDeny: p.deny, Responses: p.responses}, nil
}

// eventSubjects are the subjects a person may publish events on.
var eventSubjects = []string{
	streams.EventSubjectFilter(sellable.Adjustment),
	streams.EventSubjectFilter(sellable.Reservation),
}

// allKinds is every event subject, whatever the kind.
const allKinds = "inventory.*.*.*"

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Server is p as the embedded server takes it.
func (p Permissions) Server() *server.Permissions {
	sp := &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: p.Publish, Deny: p.PublishDeny},
		Subscribe: &server.SubjectPermission{Allow: p.Subscribe},
	}
	if p.Responses {
		// What allow_responses: true in the users file means.
		sp.Response = &server.ResponsePermission{MaxMsgs: server.DEFAULT_ALLOW_RESPONSE_MAX_MSGS,
			Expires: server.DEFAULT_ALLOW_RESPONSE_EXPIRATION}
	}
	return sp
}
