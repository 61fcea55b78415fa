package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/intake"
	"github.com/sellable/inventory/internal/drift"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
	"github.com/sellable/inventory/wire"
)

// Plan lists how the existing streams and buckets differ from what t
// says, without changing anything.
func Plan(ctx context.Context, js jetstream.JetStream, t Topology) ([]drift.Change, error) {
	cs, err := streams.Plan(ctx, js, t.Streams(nil))
	if err != nil {
		return nil, err
	}
	bs, err := kv.Plan(ctx, js, t.Buckets())
	if err != nil {
		return nil, err
	}
	return append(cs, bs...), nil
}

// Apply makes the streams and buckets what t says and returns what it
// changed. This is the one deliberate way to change a shared setting; a
// program at start never does (see Topology). When any difference cannot
// be applied (a partition count), it changes nothing.
func Apply(ctx context.Context, js jetstream.JetStream, t Topology) ([]drift.Change, error) {
	cs, err := Plan(ctx, js, t)
	if err != nil {
		return nil, err
	}
	if err := drift.Refused(cs); err != nil {
		return nil, err
	}
	if _, err := streams.Apply(ctx, js, t.Streams(nil)); err != nil {
		return nil, err
	}
	if _, err := kv.Apply(ctx, js, t.Buckets()); err != nil {
		return nil, err
	}
	// Register the schemas this version writes, so that the programs,
	// whose NATS roles may only read the registry's bucket, find them.
	store, err := registry.NewStore(ctx, js, t.registry(nil))
	if err != nil {
		return nil, err
	}
	if _, _, err := wire.AvroCodecs(ctx, registry.Local{Store: store}, nil); err != nil {
		return nil, err
	}
	// And the idempotency key, which the command API may only read.
	if _, err := ensureIDKey(ctx, js, t, nil); err != nil {
		return nil, err
	}
	return cs, nil
}

const adminTimeout = 30 * time.Second

// AdminUsage explains the admin subcommand.
const AdminUsage = `usage: inventory admin plan|apply [flags]
       inventory admin nats-users [--partitions N] [--if-absent] DIR

plan        shows how the streams and buckets on --nats-url differ from the
            settings given (flags and environment, as for the services)
apply       shows the same differences and changes the streams and buckets
            to match, deleting retired streams (SELLABLE: once no older
            program runs); a partition count is never changed (see README)
nats-users  writes one NATS user (nkey) per role into DIR: nats-users.conf,
            the server's accounts block with each role's permissions, the
            publisher in an account of its own whose events the mutators
            store with its user as the source (include it in nats-server's
            config, or --nats-users), and <role>.nk, each role's seed
            (NATS_NKEY_SEED)`

// Admin runs `inventory admin plan|apply` with args after "admin". It
// reads the same shared settings as the services, so that what a plan
// shows is what a service started with the same environment would want.
func Admin(ctx context.Context, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) > 0 && args[0] == "nats-users" {
		return natsUsers(args[1:], out)
	}
	if len(args) == 0 || (args[0] != "plan" && args[0] != "apply") {
		return errors.New(AdminUsage)
	}
	cmd := args[0]
	f := NewFlags("inventory admin " + cmd)
	f.Init(f.Name(), flag.ContinueOnError) // report, do not exit: tests call it
	c := CommonFlags(f, "", "nats://127.0.0.1:4222", "NATS server(s) whose streams and buckets to change")
	if err := f.Parse(args[1:]); err != nil {
		return err
	}
	if err := c.Streams(nil).Validate(); err != nil {
		return err
	}
	// Connect keeps retrying for a service's sake; an operator's command
	// should rather say that the server is not there.
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	opts, err := c.NATSAuth.Options()
	if err != nil {
		return err
	}
	// A refused request only times out; say at once who is refused.
	ctx, refused := context.WithCancelCause(ctx)
	defer refused(nil)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			refused(fmt.Errorf("%w (managing streams and buckets needs the admin's NATS credentials)", err))
		}
	}))
	nc, js, err := Connect(c.NATSURL, "inventory-admin", log, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	var cs []drift.Change
	if cmd == "plan" {
		cs, err = Plan(ctx, js, c.Topology)
	} else {
		cs, err = Apply(ctx, js, c.Topology)
	}
	if cause := context.Cause(ctx); err != nil && cause != nil && errors.Is(cause, nats.ErrPermissionViolation) {
		err = cause
	}
	if err != nil {
		return fmt.Errorf("admin %s: %w", cmd, err)
	}
	printChanges(out, cs)
	switch {
	case len(cs) == 0:
		fmt.Fprintln(out, "streams and buckets match the settings; nothing to change")
	case cmd == "apply":
		fmt.Fprintf(out, "applied %d change(s)\n", len(cs))
	default:
		fmt.Fprintf(out, "%d change(s); run `inventory admin apply` with the same settings to make them\n", len(cs))
	}
	return nil
}

func printChanges(out io.Writer, cs []drift.Change) {
	for _, c := range cs {
		mark := "~"
		if c.Refuse != nil {
			mark = "!"
		}
		fmt.Fprintf(out, "%s %s\n", mark, c)
	}
}

// natsUsers runs `inventory admin nats-users DIR`.
func natsUsers(args []string, out io.Writer) error {
	f := NewFlags("inventory admin nats-users")
	f.Init(f.Name(), flag.ContinueOnError)
	partitions := f.Int("partitions", "INVENTORY_PARTITIONS", streams.DefaultPartitions, "partitions of the deployment (the view has a bucket per partition)")
	ifAbsent := new(bool)
	f.FlagSet.BoolVar(ifAbsent, "if-absent", false, "do nothing when DIR already holds the users (for a deployment's first start)")
	if err := f.Parse(args); err != nil {
		return err
	}
	if f.NArg() != 1 {
		return errors.New(AdminUsage)
	}
	dir := f.Arg(0)
	if _, err := os.Stat(filepath.Join(dir, natsauth.UsersFile)); err == nil && *ifAbsent {
		fmt.Fprintf(out, "%s exists; nothing to do\n", filepath.Join(dir, natsauth.UsersFile))
		return nil
	}
	keys, err := natsauth.Generate(dir, *partitions)
	if err != nil {
		return err
	}
	for _, r := range natsauth.Roles {
		fmt.Fprintf(out, "%-10s %-9s %s  %s\n", r, natsauth.AccountOf(r), keys[r], filepath.Join(dir, natsauth.SeedFile(r)))
	}
	fmt.Fprintf(out, "events the publisher publishes are stored by the mutators' intake relay with source %s\n",
		intake.Source(natsauth.PublisherAccount, keys[natsauth.Publisher]))
	fmt.Fprintf(out, "wrote %s: include it in nats-server's configuration, or give it to the all-in-one as --nats-users\n", filepath.Join(dir, natsauth.UsersFile))
	return nil
}
