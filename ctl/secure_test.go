package ctl_test

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/systemtest"
	"github.com/sellable/inventory/internal/tlstest"
)

// TestTokenAndCAFile: against an API with keys and TLS, inventoryctl
// needs --token and --ca-file, and with them works.
func TestTokenAndCAFile(t *testing.T) {
	sys := systemtest.Start(t, systemtest.Config{Partitions: 4})
	e := sys.API(discard)
	a, err := auth.New(auth.Config{Keys: "ops inventory:adjust " + auth.HashKey("ctl-key")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	api.Protect(e, api.Guard{Auth: a})
	certs := tlstest.New(t)
	cert, err := tls.LoadX509KeyPair(certs.CertFile, certs.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	url := "--url=" + strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	if out := mustRun(t, url, "--ca-file", certs.CAFile, "--token", "ctl-key", "adjust", "STL", "ctl", "5"); !strings.Contains(out, "stored in INVENTORY") {
		t.Fatalf("adjust: %q", out)
	}
	t.Setenv("INVENTORY_TOKEN", "ctl-key")
	t.Setenv("INVENTORY_CA_FILE", certs.CAFile)
	if out := mustRun(t, url, "adjust", "STL", "ctl", "5"); !strings.Contains(out, "stored in INVENTORY") {
		t.Fatalf("adjust with the environment: %q", out)
	}
	if _, err := run(t.Context(), url, "--token", "", "adjust", "STL", "ctl", "5"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("without a token: %v", err)
	}
	if _, err := run(t.Context(), url, "--ca-file", "", "adjust", "STL", "ctl", "5"); err == nil {
		t.Fatal("a server certificate of an unknown CA was trusted")
	}
}
