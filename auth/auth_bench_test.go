package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sellable/inventory/auth"
)

// What authentication adds to each request (BENCHMARKS.md).
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	b.Run("api-key", func(b *testing.B) {
		a, err := auth.New(auth.Config{Keys: line("wms", "inventory:adjust", "k-0123456789abcdef")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(ctx, "k-0123456789abcdef"); err != nil {
				b.Fatal(err)
			}
		}
	})
	rs := rsaSigner(b, "")
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, s := range []signer{rs, {jwt.SigningMethodES256, ek, ""}} {
		b.Run("jwt-"+s.method.Alg(), func(b *testing.B) {
			der, _ := x509.MarshalPKIXPublicKey(s.key.Public())
			path := filepath.Join(b.TempDir(), "key.pem")
			os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
			a, err := auth.New(auth.Config{JWT: auth.JWTConfig{KeyFile: path}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			tok := s.token(b, claims(time.Hour, "inventory:adjust"))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
