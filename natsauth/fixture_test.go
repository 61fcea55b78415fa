package natsauth_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/intake"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/natstest"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/streams"
)

var topology = app.Topology{Partitions: streams.DefaultPartitions, Replicas: 1}

// deployment is an embedded server with the streams and buckets made by
// the admin, as `inventory admin apply` makes them before the programs
// start; seeds is where each role's seed is, "" for a server without
// users.
type deployment struct {
	srv   *server.Server
	seeds string
}

// secured is a server with the users `inventory admin nats-users` makes.
func secured(t *testing.T) deployment {
	t.Helper()
	seeds := t.TempDir()
	if _, err := natsauth.Generate(seeds, topology.Partitions); err != nil {
		t.Fatal(err)
	}
	srv, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(),
		Users: filepath.Join(seeds, natsauth.UsersFile)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	d := deployment{srv: srv, seeds: seeds}
	_, js, _ := d.connect(t, natsauth.Admin)
	apply(t, js)
	// The mutators' intake relay, through which the publisher's events
	// reach the stream.
	nc, mjs, _ := d.connect(t, natsauth.Mutator)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := intake.Start(ctx, nc, mjs, logtest.New().Logger()); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return d
}

// open is today's server: no users, anyone may do anything.
func open(t *testing.T) deployment {
	t.Helper()
	s := natstest.Start(t)
	apply(t, s.JS)
	return deployment{srv: s.Server}
}

func apply(t *testing.T, js jetstream.JetStream) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := app.Apply(ctx, js, topology); err != nil {
		t.Fatal(err)
	}
}

// violations are the permission errors the server sent a connection.
type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) add(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err)
}

func (v *violations) list() []error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]error(nil), v.errs...)
}

// refused is a condition for poll.Until: the server refused subject.
func (v *violations) refused(subject string) func() error {
	return func() error {
		for _, err := range v.list() {
			if strings.Contains(err.Error(), `"`+subject+`"`) {
				return nil
			}
		}
		return fmt.Errorf("no permission violation on %q among %v", subject, v.list())
	}
}

// connect connects as role (anonymously on an open server).
func (d deployment) connect(t *testing.T, role natsauth.Role) (*nats.Conn, jetstream.JetStream, *violations) {
	t.Helper()
	cc := natsauth.ClientConfig{InboxPrefix: natsauth.InboxPrefix(role)}
	if d.seeds != "" {
		cc.NKeySeed = filepath.Join(d.seeds, natsauth.SeedFile(role))
	}
	nc, js, v, err := d.dial(cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, js, v
}

// dial connects with cc, collecting the permission errors.
func (d deployment) dial(cc natsauth.ClientConfig) (*nats.Conn, jetstream.JetStream, *violations, error) {
	opts, err := cc.Options()
	if err != nil {
		return nil, nil, nil, err
	}
	v := &violations{}
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			v.add(err)
		}
	}))
	nc, err := nats.Connect(d.srv.ClientURL(), opts...)
	if err != nil {
		return nil, nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, nil, err
	}
	return nc, js, v, nil
}
