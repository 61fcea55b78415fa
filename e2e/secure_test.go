package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/tlstest"
)

// The split deployment with NATS users and TLS, as README "Running it
// securely" sets it up: `inventory admin nats-users` makes the users,
// nats-server includes them and serves TLS, the admin applies the
// streams and buckets, and the mutator and a calculator, each with its
// own role's seed and the CA, answer the walkthrough.
func TestSecuredSplitDeployment(t *testing.T) {
	t.Parallel()
	auth := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, filepath.Join(bin, "inventory"), "admin", "nats-users", auth).CombinedOutput(); err != nil {
		t.Fatalf("admin nats-users: %v\n%s", err, out)
	}
	conf := filepath.Join(auth, "nats.conf")
	if err := os.WriteFile(conf, []byte("include nats-users.conf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	certs := tlstest.New(t)
	natsAddr := freeAddr(t)
	natsURL := "nats://" + natsAddr
	startNATS(t, "nats", natsAddr, filepath.Join(t.TempDir(), "nats"),
		"-c", conf, "--tls", "--tlscert", certs.CertFile, "--tlskey", certs.KeyFile)
	as := func(role string) map[string]string {
		return map[string]string{"NATS_URL": natsURL, "NATS_NKEY_SEED": filepath.Join(auth, role+".nk"), "NATS_CA": certs.CAFile}
	}

	apply := exec.CommandContext(ctx, filepath.Join(bin, "inventory"), "admin", "apply")
	apply.Env = os.Environ()
	for k, v := range as("admin") {
		apply.Env = append(apply.Env, k+"="+v)
	}
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("admin apply: %v\n%s", err, out)
	}

	mutAddr, calcAddr := freeAddr(t), freeAddr(t)
	mutEnv, calcEnv := as("mutator"), as("calculator")
	mutEnv["INVENTORY_HTTP_ADDR"], calcEnv["INVENTORY_HTTP_ADDR"] = mutAddr, calcAddr
	start(t, "mutator", "mutator", mutEnv)
	start(t, "calculator", "calculator", calcEnv)
	mutator, calc := "http://"+mutAddr, "http://"+calcAddr
	waitReady(t, mutator)
	waitReady(t, calc)
	command(t, mutator, "adjustment", "STL", "123123", 100, "secured-1")
	command(t, mutator, "adjustment", "STL", "123123", 100, "secured-1") // its retry
	command(t, mutator, "reservation", "STL", "123123", 10, "")
	waitCount(t, calc, "STL", "123123", 90)
	// `nats pub -J` as the publisher: the mutator's intake relay stores it.
	publishAsPublisher(t, natsURL, auth, certs.CAFile, `{"count":5,"source":"someone-else"}`)
	waitCount(t, calc, "STL", "123123", 95)
	waitPublisherInHistory(t, calc, auth)

	// The sellable-service as the projector, when there is a CQL server.
	if hosts := os.Getenv("SCYLLA_HOSTS"); hosts != "" {
		svcAddr := freeAddr(t)
		svcEnv := as("projector")
		svcEnv["INVENTORY_HTTP_ADDR"], svcEnv["SCYLLA_HOSTS"] = svcAddr, hosts
		svcEnv["SCYLLA_KEYSPACE"] = fmt.Sprintf("e2e_%d", rand.Uint32())
		start(t, "sellable-service", "sellable-service", svcEnv)
		waitCount(t, "http://"+svcAddr, "STL", "123123", 95)
	}
}

// The all-in-one refuses to open its embedded NATS server to the network
// without users, and says how to configure it (issue 13.2).
func TestAllInOneRefusesOpenNATSWithoutUsers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "inventory"),
		"--nats-listen", "0.0.0.0:"+port(freeAddr(t)), "--http-addr", freeAddr(t), "--data-dir", t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("started with an open NATS port and no users:\n%s", out)
	}
	for _, want := range []string{"refusing to listen beyond loopback without users", "--nats-users", "inventory admin nats-users", "--nats-insecure"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("message lacks %q:\n%s", want, out)
		}
	}
}

// The all-in-one with users and TLS on its embedded server: it serves
// (its own connection is in-process, as an internal user), the admin
// reaches the server over TLS, and a publisher may not apply settings.
func TestAllInOneWithNATSUsersAndTLS(t *testing.T) {
	t.Parallel()
	auth := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, filepath.Join(bin, "inventory"), "admin", "nats-users", auth).CombinedOutput(); err != nil {
		t.Fatalf("admin nats-users: %v\n%s", err, out)
	}
	certs := tlstest.New(t)
	natsAddr, httpAddr := freeAddr(t), freeAddr(t)
	start(t, "inventory", "inventory", map[string]string{
		"INVENTORY_NATS_LISTEN": natsAddr, "INVENTORY_HTTP_ADDR": httpAddr, "INVENTORY_DATA_DIR": t.TempDir(),
		"INVENTORY_NATS_USERS":       filepath.Join(auth, "nats-users.conf"),
		"INVENTORY_NATS_SERVER_CERT": certs.CertFile, "INVENTORY_NATS_SERVER_KEY": certs.KeyFile,
	})
	base := "http://" + httpAddr
	waitReady(t, base)
	command(t, base, "adjustment", "STL", "123123", 100, "")
	waitCount(t, base, "STL", "123123", 100)
	// `nats pub -J` as the publisher: the all-in-one's intake relay
	// stores it.
	publishAsPublisher(t, "tls://"+natsAddr, auth, certs.CAFile, `{"count":5}`)
	waitCount(t, base, "STL", "123123", 105)
	waitPublisherInHistory(t, base, auth)

	admin := func(role, sub string) (string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "inventory"), "admin", sub, "--nats-url", "nats://"+natsAddr)
		cmd.Env = append(os.Environ(), "NATS_NKEY_SEED="+filepath.Join(auth, role+".nk"), "NATS_CA="+certs.CAFile)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := admin("admin", "plan"); err != nil || !strings.Contains(out, "nothing to change") {
		t.Fatalf("admin plan as admin: %v\n%s", err, out)
	}
	if out, err := admin("publisher", "apply"); err == nil || !strings.Contains(out, "needs the admin's NATS credentials") {
		t.Fatalf("admin apply as publisher: %v\n%s", err, out)
	}
}

// publishAsPublisher publishes an adjustment of STL/123123 as the
// publisher role, as `nats pub -J` does (a request answered by a PubAck),
// and checks that the event was stored in INVENTORY.
func publishAsPublisher(t *testing.T, url, auth, ca, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed, err := nats.NkeyOptionFromSeed(filepath.Join(auth, "publisher.nk"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(url, seed, nats.RootCAs(ca), nats.CustomInboxPrefix("_INBOX.publisher"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := js.Publish(ctx, "inventory.adjustments.STL.123123", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if ack.Stream != "INVENTORY" || ack.Sequence == 0 {
		t.Fatalf("PubAck %+v, want an event stored in INVENTORY", ack)
	}
}

// waitPublisherInHistory polls a query API until STL/123123's history
// names the publisher's NATS user as an event's source.
func waitPublisherInHistory(t *testing.T, base, auth string) {
	t.Helper()
	seed, err := os.ReadFile(filepath.Join(auth, "publisher.nk"))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.FromSeed(bytes.TrimSpace(seed))
	if err != nil {
		t.Fatal(err)
	}
	user, _ := kp.PublicKey()
	want := "nats:PUBLISHER/" + user
	poll.Until(t, 30*time.Second, "history naming "+want, func() error {
		r, err := api(base).GetPositionHistoryWithResponse(context.Background(), "STL", "123123", nil)
		if err != nil {
			return err
		}
		if r.JSON200 == nil {
			return fmt.Errorf("status %d: %s", r.StatusCode(), r.Body)
		}
		for _, e := range r.JSON200.Events {
			if e.Source != nil && *e.Source == want {
				return nil
			}
		}
		return fmt.Errorf("no event from %s in %s", want, r.Body)
	})
}
