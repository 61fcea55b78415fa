package app_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/tlstest"
)

func TestNonLoopbackNeedsCredentialsOrInsecure(t *testing.T) {
	open := app.Security{}
	for _, addr := range []string{"127.0.0.1:9091", "localhost:9091", "[::1]:9091", "127.0.0.2:80"} {
		if err := open.CheckListen(addr); err != nil {
			t.Errorf("%s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:9091", ":9091", "[::]:9091", "10.1.2.3:9091", "inventory.example:9091"} {
		err := open.CheckListen(addr)
		if !errors.Is(err, app.ErrUnprotected) {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		for _, hint := range []string{"INVENTORY_API_KEYS_FILE", "INVENTORY_JWT_JWKS_URL", "--insecure", "127.0.0.1", "Running it securely"} {
			if !strings.Contains(err.Error(), hint) {
				t.Errorf("%s: message does not say %s: %v", addr, hint, err)
			}
		}
	}
	for name, s := range map[string]app.Security{
		"insecure": {Insecure: true},
		"keys":     {Auth: auth.Config{KeysFile: "keys"}},
		"jwt":      {Auth: auth.Config{JWT: auth.JWTConfig{JWKSURL: "https://idp.example/jwks"}}},
	} {
		if err := s.CheckListen("0.0.0.0:9091"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSecurityValidate(t *testing.T) {
	if err := (app.Security{TLSCert: "c"}).Validate(); err == nil {
		t.Fatal("a certificate without a key accepted")
	}
	if err := (app.Security{Rate: -1}).Validate(); err == nil {
		t.Fatal("negative rate accepted")
	}
	if err := (app.Security{TLSCert: "c", TLSKey: "k", Rate: 10}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestServesTLS: with a certificate the listener speaks HTTPS only, and
// a client that stalls the handshake is cut off by the read-header
// timeout.
func TestServesTLS(t *testing.T) {
	certs := tlstest.New(t)
	cert, err := tls.LoadX509KeyPair(certs.CertFile, certs.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	e := api.NewServer(quiet)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	lim := limits(300*time.Millisecond, long, long, long, 8)
	go func() {
		done <- app.ServeListenerTLS(ctx, e, ln, lim, &tls.Config{Certificates: []tls.Certificate{cert}}, quiet)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	addr := ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: certs.ClientConfig()}}
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("https: %d %s", resp.StatusCode, b)
	}
	// Plain HTTP gets no answer of ours.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served")
		}
	}
	// A client that trusts another CA refuses the server.
	if _, err := http.Get("https://" + addr + "/healthz"); err == nil {
		t.Fatal("certificate of an unknown CA accepted")
	}
	// A handshake that never comes is cut off.
	closedWithin(t, dial(t, addr), 5*time.Second, "\x16")
}
