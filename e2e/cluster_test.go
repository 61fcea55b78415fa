package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// natsCluster is three nats-server processes joined by routes.
type natsCluster struct {
	t      *testing.T
	client []string // client addresses
	routes []string // cluster addresses
	dirs   []string
	procs  []*process
}

func startCluster(t *testing.T) *natsCluster {
	c := &natsCluster{t: t}
	for i := 0; i < 3; i++ {
		c.client = append(c.client, freeAddr(t))
		c.routes = append(c.routes, freeAddr(t))
		c.dirs = append(c.dirs, filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i)))
	}
	c.procs = make([]*process, 3)
	for i := range c.procs {
		c.startNode(i)
	}
	return c
}

func (c *natsCluster) startNode(i int) {
	var routes []string
	for j, r := range c.routes {
		if j != i {
			routes = append(routes, "nats://"+r)
		}
	}
	c.procs[i] = startNATS(c.t, fmt.Sprintf("nats-%d", i+1), c.client[i], c.dirs[i],
		"--cluster_name", "inventory", "--cluster", "nats://"+c.routes[i], "--routes", strings.Join(routes, ","))
}

func (c *natsCluster) url() string {
	urls := make([]string, len(c.client))
	for i, a := range c.client {
		urls[i] = "nats://" + a
	}
	return strings.Join(urls, ",")
}

type calcStatus struct {
	Instance string `json:"instance"`
	Owned    []int  `json:"owned"`
}

func status(base string) (calcStatus, error) {
	var s calcStatus
	resp, err := client.Get(base + "/calculator/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("status %d", resp.StatusCode)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// owners counts how many of the given calculators own each partition.
func owners(bases []string) (map[int]int, error) {
	out := map[int]int{}
	for _, b := range bases {
		s, err := status(b)
		if err != nil {
			return nil, err
		}
		for _, p := range s.Owned {
			out[p]++
		}
	}
	return out, nil
}

func allOwnedOnce(bases []string, partitions int) error {
	o, err := owners(bases)
	if err != nil {
		return err
	}
	for p := 0; p < partitions; p++ {
		if o[p] != 1 {
			return fmt.Errorf("partition %d has %d owners (%v)", p, o[p], o)
		}
	}
	return nil
}

// A three-node JetStream cluster with R3 streams and buckets, the mutator
// and three calculators. While commands flow, a calculator is killed and
// restarted, a NATS server is killed and restarted, and a calculator is
// added. Every acknowledged command counts exactly once, and every
// calculator answers every key the same.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	nc := startCluster(t)
	env := func(addr string) map[string]string {
		return map[string]string{"NATS_URL": nc.url(), "INVENTORY_HTTP_ADDR": addr, "INVENTORY_REPLICAS": "3"}
	}
	mutAddr := freeAddr(t)
	mutator := "http://" + mutAddr
	start(t, "mutator", "mutator", env(mutAddr))
	waitReady(t, mutator)

	addrs := []string{freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)}
	bases := make([]string, len(addrs))
	procs := make([]*process, len(addrs))
	for i, a := range addrs {
		bases[i] = "http://" + a
	}
	startCalc := func(i int) {
		procs[i] = start(t, fmt.Sprintf("calculator-%d", i+1), "calculator", env(addrs[i]))
		waitReady(t, bases[i])
	}
	for i := 0; i < 3; i++ {
		startCalc(i)
	}
	const partitions = 8
	poll.Until(t, 30*time.Second, "partitions shared by three", func() error { return allOwnedOnce(bases[:3], partitions) })

	const commands, skus = 300, 16
	loc := fmt.Sprintf("cluster-%d", rand.Int())
	want := map[string]int{}
	for i := 0; i < commands; i++ {
		sku := fmt.Sprint(rand.IntN(skus))
		n := rand.IntN(9) + 1
		kind := "adjustment"
		if i%4 == 3 {
			kind, n = "reservation", -n
		}
		want[sku] += n
		command(t, mutator, kind, loc, sku, abs(n), fmt.Sprintf("%s-%d", loc, i))
		switch i {
		case 50:
			killed := time.Now()
			procs[0].kill()
			poll.Until(t, 20*time.Second, "takeover", func() error { return allOwnedOnce(bases[1:3], partitions) })
			t.Logf("failover: every partition owned again %v after SIGKILL", time.Since(killed).Round(10*time.Millisecond))
		case 100:
			startCalc(0)
		case 150:
			nc.procs[1].kill()
		case 200:
			nc.startNode(1)
		case 250:
			startCalc(3)
		}
	}
	poll.Until(t, 30*time.Second, "partitions shared by four", func() error { return allOwnedOnce(bases, partitions) })
	for _, b := range bases {
		for sku, n := range want {
			waitCount(t, b, loc, sku, n)
		}
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
