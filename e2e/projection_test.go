package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// scyllaHosts is the CQL server the projection tests use; they are
// skipped without one (`go tool task test` starts a local Cassandra).
func scyllaHosts(t *testing.T) string {
	t.Helper()
	h := os.Getenv("SCYLLA_HOSTS")
	if h == "" {
		t.Skip("SCYLLA_HOSTS is not set: no CQL server for the projection")
	}
	return h
}

// startWithProjection runs the all-in-one with the Scylla projection on
// its own keyspace, and returns the KV and Scylla query bases.
func startWithProjection(t *testing.T) (a *allInOne, scylla string) {
	t.Helper()
	a = newAllInOne(t)
	sellAddr := freeAddr(t)
	a.env["SCYLLA_HOSTS"] = scyllaHosts(t)
	a.env["SCYLLA_KEYSPACE"] = fmt.Sprintf("e2e_%d", rand.Uint32())
	a.env["INVENTORY_SELLABLE_ADDR"] = sellAddr
	a.start(t)
	return a, "http://" + sellAddr
}

// The walkthrough answered the same by the KV path, the all-in-one's
// Scylla path and a separate sellable-service, as the original's three
// components all answered 190.
func TestProjectionAnswersLikeTheView(t *testing.T) {
	t.Parallel()
	a, scylla := startWithProjection(t)
	svcAddr := freeAddr(t)
	start(t, "sellable-service", "sellable-service", map[string]string{
		"NATS_URL": a.natsURL, "INVENTORY_HTTP_ADDR": svcAddr,
		"SCYLLA_HOSTS": a.env["SCYLLA_HOSTS"], "SCYLLA_KEYSPACE": a.env["SCYLLA_KEYSPACE"] + "_svc",
	})
	command(t, a.base, "adjustment", "STL", "123123", 100, "")
	command(t, a.base, "reservation", "STL", "123123", 10, "")
	command(t, a.base, "adjustment", "STL", "123123", 100, "")
	for _, base := range []string{a.base, scylla, "http://" + svcAddr} {
		waitCount(t, base, "STL", "123123", 190)
		waitReady(t, base) // every listener answers /readyz
	}
	status, out, err := position(t, scylla, "STL", "never-seen")
	if err != nil || status != http.StatusNotFound {
		t.Fatalf("unknown key from Scylla: %d %v %v", status, out, err)
	}
}

// Stop the database, keep sending commands, start it: the rows converge
// and nothing is lost. It stops the shared local Cassandra, so it runs
// only when asked (`go tool task test` does, after the other tests).
func TestProjectionSurvivesDatabaseOutage(t *testing.T) {
	if os.Getenv("E2E_DB_FAULTS") != "1" {
		t.Skip("set E2E_DB_FAULTS=1 to stop and start the local Cassandra")
	}
	a, scylla := startWithProjection(t)
	command(t, a.base, "adjustment", "OUT", "1", 50, "")
	waitCount(t, scylla, "OUT", "1", 50)

	cassandra(t, "stop")
	t.Cleanup(func() { cassandra(t, "start") })
	want := 50
	for i := 0; i < 20; i++ {
		command(t, a.base, "reservation", "OUT", "1", 1, "")
		command(t, a.base, "adjustment", "OUT", fmt.Sprint(i%4+2), 3, "")
		want--
	}
	waitCount(t, a.base, "OUT", "1", want) // the KV path does not need the database
	poll.Until(t, 20*time.Second, "503 while the database is down", func() error {
		status, _, err := position(t, scylla, "OUT", "1")
		if err != nil || status != http.StatusServiceUnavailable {
			return fmt.Errorf("status %d, %v", status, err)
		}
		return nil
	})

	cassandra(t, "start")
	waitCount(t, scylla, "OUT", "1", want)
	for i := 2; i < 6; i++ {
		waitCount(t, scylla, "OUT", fmt.Sprint(i), 15)
	}
}

func cassandra(t *testing.T, action string) {
	t.Helper()
	cmd := exec.Command("bash", "../scripts/cassandra.sh", action)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cassandra %s: %v\n%s", action, err, out)
	}
}
