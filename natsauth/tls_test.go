package natsauth_test

import (
	"crypto/x509"
	"errors"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sellable/inventory/internal/tlstest"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/natsembed"
)

// A client with the CA file connects to a TLS server and checks its
// certificate: it refuses a server whose certificate another authority
// signed, and a server without TLS.
func TestClientVerifiesServerCertificate(t *testing.T) {
	good, other := tlstest.New(t), tlstest.New(t)
	srv, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: t.TempDir(), TLSCert: good.CertFile, TLSKey: good.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	d := deployment{srv: srv}

	nc, _, _, err := d.dial(natsauth.ClientConfig{CAFile: good.CAFile})
	if err != nil {
		t.Fatalf("with the server's CA: %v", err)
	}
	if !nc.TLSRequired() {
		t.Error("connection not over TLS")
	}
	nc.Close()

	_, _, _, err = d.dial(natsauth.ClientConfig{CAFile: other.CAFile})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("with another CA: %v, want %T", err, unknown)
	}

	plain, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Shutdown)
	_, _, _, err = deployment{srv: plain}.dial(natsauth.ClientConfig{CAFile: good.CAFile})
	if !errors.Is(err, nats.ErrSecureConnWanted) {
		t.Fatalf("a server without TLS: %v, want %v", err, nats.ErrSecureConnWanted)
	}
}

func TestClientConfigValidate(t *testing.T) {
	for name, c := range map[string]natsauth.ClientConfig{
		"two credentials":     {Creds: "a.creds", NKeySeed: "a.nk"},
		"password, no user":   {Password: "p"},
		"certificate, no key": {CertFile: "c.pem"},
	} {
		if err := c.Validate(); !errors.Is(err, natsauth.ErrCredentials) {
			t.Errorf("%s: %v, want %v", name, err, natsauth.ErrCredentials)
		}
	}
	if err := (natsauth.ClientConfig{User: "u", Password: "p", CAFile: "ca.pem"}).Validate(); err != nil {
		t.Errorf("user, password and CA: %v", err)
	}
}
