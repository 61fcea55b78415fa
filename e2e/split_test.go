package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// The docker-compose topology in processes: a nats-server, the mutator
// and two calculators. Commands keep coming while a calculator is killed
// and the NATS server is killed and restarted; every acknowledged command
// counts exactly once, on every calculator.
func TestSplitDeploymentExactUnderFailures(t *testing.T) {
	t.Parallel()
	natsAddr := freeAddr(t)
	natsDir := filepath.Join(t.TempDir(), "nats")
	natsURL := "nats://" + natsAddr
	srv := startNATS(t, "nats", natsAddr, natsDir)

	mutAddr, c1Addr, c2Addr := freeAddr(t), freeAddr(t), freeAddr(t)
	mutator := "http://" + mutAddr
	start(t, "mutator", "mutator", map[string]string{"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": mutAddr})
	calcEnv := func(addr string) map[string]string {
		return map[string]string{"NATS_URL": natsURL, "INVENTORY_HTTP_ADDR": addr}
	}
	c1 := start(t, "calculator-1", "calculator", calcEnv(c1Addr))
	start(t, "calculator-2", "calculator", calcEnv(c2Addr))
	calcs := []string{"http://" + c1Addr, "http://" + c2Addr}
	waitReady(t, mutator)
	for _, c := range calcs {
		waitReady(t, c)
	}

	// The walkthrough, answered the same by both calculators.
	command(t, mutator, "adjustment", "STL", "123123", 100, "")
	command(t, mutator, "reservation", "STL", "123123", 10, "")
	for _, c := range calcs {
		waitCount(t, c, "STL", "123123", 90)
	}

	const commands, skus = 400, 12
	want := make(map[string]int)
	loc := "split-" + fmt.Sprint(rand.Int())
	for i := 0; i < commands; i++ {
		sku := fmt.Sprint(rand.IntN(skus))
		kind, n := "adjustment", rand.IntN(20)+1
		if rand.IntN(3) == 0 {
			kind, want[sku] = "reservation", want[sku]-n
		} else {
			want[sku] += n
		}
		command(t, mutator, kind, loc, sku, n, fmt.Sprintf("%s-%d", loc, i))
		switch i {
		case commands / 4:
			c1.kill()
		case commands / 2:
			srv.kill()
			srv = startNATS(t, "nats", natsAddr, natsDir)
		case 3 * commands / 4:
			c1 = start(t, "calculator-1", "calculator", calcEnv(c1Addr))
		}
	}
	waitReady(t, calcs[0])
	for _, c := range calcs {
		for sku, n := range want {
			waitCount(t, c, loc, sku, n)
		}
	}
}
