package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sellable/inventory/client"
	"github.com/sellable/inventory/internal/poll"
)

// process is a program under test, with its output kept in a log file
// that is printed when the test fails.
type process struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func start(t *testing.T, name, program string, env map[string]string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, program), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{t: t, name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			out, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", name, tail(out, 4000))
		}
	})
	return p
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// kill sends SIGKILL and waits: the crash case.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *process) stop() {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.t.Fatalf("%s did not stop within 15s of SIGTERM", p.name)
	}
}

// freeAddr finds a free 127.0.0.1 port.
func freeAddr(t *testing.T) string {
	t.Helper()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		// The kernel may hand a port it just took back to the next
		// caller: tests running in parallel would then start two
		// programs on one port. Never give one out twice.
		handedOut.Lock()
		seen := handedOut.ports[addr]
		handedOut.ports[addr] = true
		handedOut.Unlock()
		if !seen {
			return addr
		}
	}
}

// handedOut is every address freeAddr returned in this test binary.
var handedOut = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// startNATS runs a nats-server process with JetStream in dir.
func startNATS(t *testing.T, name, addr, dir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"-a", "127.0.0.1", "-p", port(addr), "-js", "-sd", dir, "-n", name}, extra...)
	p := start(t, name, "nats-server", nil, args...)
	waitTCP(t, addr)
	return p
}

func waitTCP(t *testing.T, addr string) {
	t.Helper()
	poll.Until(t, 20*time.Second, "listening on "+addr, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

// waitReady polls GET /readyz until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	poll.Until(t, 30*time.Second, base+" ready", func() error {
		r, err := api(base).ReadyzWithResponse(context.Background())
		if err != nil {
			return err
		}
		if r.JSON200 == nil {
			return fmt.Errorf("status %d: %s", r.StatusCode(), r.Body)
		}
		return nil
	})
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// api is the generated client (package client) for the HTTP API at base:
// the tests speak to the programs only as the document describes them.
func api(base string) *client.ClientWithResponses {
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(httpClient))
	if err != nil {
		panic(err) // only an option can fail, and WithHTTPClient does not
	}
	return c
}

// command posts until the command is acknowledged, retrying with the same
// idempotency key through outages, as a careful client does. The count is
// sent as a string, as the seed's README does.
func command(t *testing.T, base, kind, loc, sku string, count int, idemKey string) {
	t.Helper()
	c := api(base)
	var key *string
	if idemKey != "" {
		key = &idemKey
	}
	poll.Until(t, 60*time.Second, kind+" "+loc+"/"+sku, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var (
			status int
			body   []byte
		)
		switch kind {
		case "adjustment":
			r, err := c.AdjustWithResponse(ctx, &client.AdjustParams{IdempotencyKey: key},
				client.AdjustJSONRequestBody{LocationId: loc, Sku: sku, Count: client.AdjustmentCountString(int64(count))})
			if err != nil {
				return err
			}
			status, body = r.StatusCode(), r.Body
		case "reservation":
			r, err := c.ReserveWithResponse(ctx, &client.ReserveParams{IdempotencyKey: key},
				client.ReserveJSONRequestBody{LocationId: loc, Sku: sku, Count: client.ReservationCountString(int64(count))})
			if err != nil {
				return err
			}
			status, body = r.StatusCode(), r.Body
		default:
			t.Fatalf("no command %q", kind)
		}
		if status/100 != 2 {
			return fmt.Errorf("status %d: %s", status, body)
		}
		return nil
	})
}

// position reads a position from a query API: the status, and the
// position when it is 200.
func position(t *testing.T, base, loc, sku string) (int, *client.Position, error) {
	r, err := api(base).GetPositionWithResponse(context.Background(), loc, sku, nil)
	if err != nil {
		return 0, nil, err
	}
	return r.StatusCode(), r.JSON200, nil
}

// waitCount polls a query API until the position shows count.
func waitCount(t *testing.T, base, loc, sku string, count int) {
	t.Helper()
	poll.Until(t, 30*time.Second, fmt.Sprintf("%s %s/%s = %d", base, loc, sku, count), func() error {
		status, pos, err := position(t, base, loc, sku)
		if err != nil {
			return err
		}
		if status != http.StatusOK || pos.Count != int64(count) {
			return fmt.Errorf("status %d: %+v", status, pos)
		}
		return nil
	})
}
