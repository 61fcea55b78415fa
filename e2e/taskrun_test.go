package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// `go tool task run` is the go command running Task running the program.
// Task keeps a SIGTERM to itself (it exits only on the third), so a user
// whose `kill` did nothing sends SIGKILL to the pid they see: the program
// must not outlive its runner and keep both ports.
func TestTaskRunDoesNotOutliveItsRunner(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	httpAddr, natsAddr := freeAddr(t), freeAddr(t)
	logPath := filepath.Join(t.TempDir(), "task-run.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("go", "tool", "task", "run")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "INVENTORY_HTTP_ADDR="+httpAddr, "INVENTORY_NATS_LISTEN="+natsAddr, "INVENTORY_DATA_DIR="+t.TempDir(),
		"SCYLLA_HOSTS=", "INVENTORY_SELLABLE_ADDR="+freeAddr(t)) // no fixed port: tests run in parallel
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that cleanup can reach every process of the run
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- go tool task run ---\n%s", tail(b, 4000))
		}
	})
	poll.Until(t, 3*time.Minute, "go tool task run listening", func() error { // it builds first
		return dial(httpAddr)
	})
	waitReady(t, "http://"+httpAddr)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	poll.Until(t, 20*time.Second, "both ports free after the runner was killed", func() error {
		for _, addr := range []string{httpAddr, natsAddr} {
			if dial(addr) == nil {
				return fmt.Errorf("%s still answers", addr)
			}
		}
		return nil
	})
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	c.Close()
	return nil
}
