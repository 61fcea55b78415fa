package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bin holds the programs built once for all tests.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "inventory-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := build()
	if code == 0 {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func build() int {
	targets := map[string]string{
		"nats-server":      "github.com/nats-io/nats-server/v2",
		"inventory":        "github.com/sellable/inventory/services/inventory",
		"mutator":          "github.com/sellable/inventory/services/mutator",
		"calculator":       "github.com/sellable/inventory/services/calculator",
		"sellable-service": "github.com/sellable/inventory/services/sellable-service",
	}
	for name, pkg := range targets {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: build %s: %v\n", pkg, err)
			return 1
		}
	}
	return 0
}
