package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
)

func line(id, scopes, key string) string { return id + " " + scopes + " " + auth.HashKey(key) + "\n" }

func TestParseKeysRefusesMalformedLines(t *testing.T) {
	for name, text := range map[string]string{
		"two fields":      "a inventory:read\n",
		"unknown scope":   "a inventory:write " + auth.HashKey("k") + "\n",
		"short hash":      "a inventory:read abcd\n",
		"duplicate id":    line("a", "inventory:read", "k1") + line("a", "admin", "k2"),
		"duplicate key":   line("a", "inventory:read", "k1") + line("b", "admin", "k1"),
		"hash not in hex": "a inventory:read " + strings.Repeat("z", 64) + "\n",
	} {
		if _, err := auth.ParseKeys(text, "test"); err == nil {
			t.Errorf("%s: parsed %q", name, text)
		}
	}
	keys, err := auth.ParseKeys("# comment\n\n"+line("ci", "inventory:read,inventory:adjust", "k")+"wms admin sha256:"+auth.HashKey("k2")+"\n", "test")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v, err %v", keys, err)
	}
}

func TestAPIKeys(t *testing.T) {
	a, err := auth.New(auth.Config{Keys: strings.TrimSuffix(line("shop", "inventory:reserve", "secret-1"), "\n") + ";" + line("ops", "admin", "secret-2")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Authenticate(context.Background(), "secret-1")
	if err != nil || p.ID != "shop" || !p.Has(auth.ScopeReserve) || p.Has(auth.ScopeAdjust) {
		t.Fatalf("secret-1: %+v, %v", p, err)
	}
	p, err = a.Authenticate(context.Background(), "secret-2")
	if err != nil || !p.Has(auth.ScopeRegistryWrite) {
		t.Fatalf("admin holds every scope: %+v, %v", p, err)
	}
	if _, err := a.Authenticate(context.Background(), "secret-3"); !errors.Is(err, auth.ErrBadCredential) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := a.Authenticate(context.Background(), ""); !errors.Is(err, auth.ErrNoCredential) {
		t.Fatalf("no key: %v", err)
	}
	// The hash itself is not a key.
	if _, err := a.Authenticate(context.Background(), auth.HashKey("secret-1")); !errors.Is(err, auth.ErrBadCredential) {
		t.Fatalf("hash as key: %v", err)
	}
}

// TestKeyFileRotatesWithoutRestart adds a key, revokes the old one and
// breaks the file, on a running Authenticator.
func TestKeyFileRotatesWithoutRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	write := func(text string) {
		// Written beside and renamed, as an operator's tooling would.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(line("old", "inventory:read", "old-key"))
	logs := logtest.New()
	a, err := auth.New(auth.Config{KeysFile: path, KeysRecheck: 10 * time.Millisecond}, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, "old-key"); err != nil {
		t.Fatal(err)
	}
	write(line("new", "inventory:read", "new-key"))
	poll.Until(t, 5*time.Second, "new key accepted", func() error {
		_, err := a.Authenticate(ctx, "new-key")
		return err
	})
	if _, err := a.Authenticate(ctx, "old-key"); !errors.Is(err, auth.ErrBadCredential) {
		t.Fatalf("revoked key: %v", err)
	}
	// A file that no longer parses keeps the last good keys.
	write("garbage\n" + line("x", "admin", "x-key"))
	poll.Until(t, 5*time.Second, "malformed file seen", func() error {
		a.Authenticate(ctx, "x-key")
		if !strings.Contains(logs.String(), "does not parse") {
			return errors.New("not yet")
		}
		return nil
	})
	if _, err := a.Authenticate(ctx, "x-key"); err == nil {
		t.Fatal("a key of a malformed file was accepted")
	}
	if _, err := a.Authenticate(ctx, "new-key"); err != nil {
		t.Fatalf("last good key lost: %v", err)
	}
}

func TestMalformedKeyFileStopsStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(path, []byte("nope\n"), 0o600)
	if _, err := auth.New(auth.Config{KeysFile: path}, nil); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err %v", err)
	}
	if _, err := auth.New(auth.Config{KeysFile: path + ".missing"}, nil); err == nil {
		t.Fatal("missing file accepted")
	}
}

// signer makes test tokens with a key the test generates.
type signer struct {
	method jwt.SigningMethod
	key    crypto.Signer
	kid    string
}

func (s signer) token(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	str, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

func rsaSigner(t testing.TB, kid string) signer {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signer{jwt.SigningMethodRS256, k, kid}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwks is the JWK set of the signers' public keys.
func jwks(signers ...signer) []byte {
	var keys []map[string]string
	for _, s := range signers {
		switch k := s.key.Public().(type) {
		case *rsa.PublicKey:
			keys = append(keys, map[string]string{"kty": "RSA", "kid": s.kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())})
		case *ecdsa.PublicKey:
			keys = append(keys, map[string]string{"kty": "EC", "kid": s.kid, "crv": "P-256", "x": b64(k.X.FillBytes(make([]byte, 32))), "y": b64(k.Y.FillBytes(make([]byte, 32)))})
		case ed25519.PublicKey:
			keys = append(keys, map[string]string{"kty": "OKP", "kid": s.kid, "crv": "Ed25519", "x": b64(k)})
		}
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func claims(d time.Duration, scope string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"sub": "svc-shop", "iss": "https://idp.test", "aud": "inventory", "iat": now.Unix(), "exp": now.Add(d).Unix(), "scope": scope}
}

func TestJWTFromJWKSURL(t *testing.T) {
	s1 := rsaSigner(t, "k1")
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s2 := signer{jwt.SigningMethodES256, ek, "k2"}
	_, edk, _ := ed25519.GenerateKey(rand.Reader)
	s3 := signer{jwt.SigningMethodEdDSA, edk, "k3"}
	var set atomic.Value
	set.Store(jwks(s1))
	var fetches atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Write(set.Load().([]byte))
	}))
	defer idp.Close()
	a, err := auth.New(auth.Config{JWT: auth.JWTConfig{JWKSURL: idp.URL, Issuer: "https://idp.test", Audience: "inventory"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := a.Authenticate(ctx, s1.token(t, claims(time.Minute, "inventory:read inventory:adjust openid")))
	if err != nil || p.ID != "svc-shop" || !slices.Equal(p.Scopes, []auth.Scope{auth.ScopeRead, auth.ScopeAdjust}) {
		t.Fatalf("%+v %v", p, err)
	}
	// scp as a list, as some identity providers write it.
	c := claims(time.Minute, "")
	c["scp"] = []string{"inventory:reserve"}
	if p, err := a.Authenticate(ctx, s1.token(t, c)); err != nil || !p.Has(auth.ScopeReserve) || p.Has(auth.ScopeRead) {
		t.Fatalf("scp: %+v %v", p, err)
	}

	refused := map[string]string{
		"expired":         s1.token(t, claims(-time.Minute, "admin")),
		"forged":          rsaSigner(t, "k1").token(t, claims(time.Minute, "admin")),
		"other issuer":    s1.token(t, jwt.MapClaims{"sub": "x", "iss": "https://evil.test", "aud": "inventory", "exp": time.Now().Add(time.Minute).Unix()}),
		"other audience":  s1.token(t, jwt.MapClaims{"sub": "x", "iss": "https://idp.test", "aud": "billing", "exp": time.Now().Add(time.Minute).Unix()}),
		"no exp":          s1.token(t, jwt.MapClaims{"sub": "x", "iss": "https://idp.test", "aud": "inventory"}),
		"not yet valid":   s1.token(t, jwt.MapClaims{"sub": "x", "iss": "https://idp.test", "aud": "inventory", "exp": time.Now().Add(time.Hour).Unix(), "nbf": time.Now().Add(30 * time.Minute).Unix()}),
		"no subject":      s1.token(t, jwt.MapClaims{"iss": "https://idp.test", "aud": "inventory", "exp": time.Now().Add(time.Minute).Unix()}),
		"alg none":        unsigned(claims(time.Minute, "admin")),
		"hmac with the n": hmacWithPublicKey(t, s1, claims(time.Minute, "admin")),
		"tampered":        tamper(s1.token(t, claims(time.Minute, "inventory:read"))),
	}
	for name, tok := range refused {
		if p, err := a.Authenticate(ctx, tok); !errors.Is(err, auth.ErrBadCredential) {
			t.Errorf("%s: %+v, %v", name, p, err)
		}
	}

	// A key added to the JWKS is found without a restart: an unknown kid
	// fetches the set again (at most every JWKSMinRefresh).
	set.Store(jwks(s1, s2, s3))
	poll.Until(t, 3*auth.JWKSMinRefresh, "rotated key accepted", func() error {
		_, err := a.Authenticate(ctx, s2.token(t, claims(time.Minute, "inventory:read")))
		return err
	})
	if _, err := a.Authenticate(ctx, s3.token(t, claims(time.Minute, "inventory:read"))); err != nil {
		t.Fatalf("Ed25519: %v", err)
	}
	before := fetches.Load()
	for range 5 {
		a.Authenticate(ctx, rsaSigner(t, "unknown").token(t, claims(time.Minute, "admin")))
	}
	if got := fetches.Load() - before; got > 1 {
		t.Fatalf("unknown key ids fetched the JWKS %d times", got)
	}
}

func TestJWTFromPEMKeyFile(t *testing.T) {
	s := rsaSigner(t, "")
	der, _ := x509.MarshalPKIXPublicKey(s.key.Public())
	path := filepath.Join(t.TempDir(), "idp.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	a, err := auth.New(auth.Config{JWT: auth.JWTConfig{KeyFile: path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a.Authenticate(context.Background(), s.token(t, claims(time.Minute, "registry:write"))); err != nil || !p.Has(auth.ScopeRegistryWrite) {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := a.Authenticate(context.Background(), rsaSigner(t, "").token(t, claims(time.Minute, "admin"))); !errors.Is(err, auth.ErrBadCredential) {
		t.Fatalf("forged: %v", err)
	}
}

func unsigned(c jwt.MapClaims) string {
	s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}

// hmacWithPublicKey is the classic confusion attack: HS256 keyed with the
// verifier's public key bytes.
func hmacWithPublicKey(t *testing.T, s signer, c jwt.MapClaims) string {
	der, _ := x509.MarshalPKIXPublicKey(s.key.Public())
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tok.Header["kid"] = s.kid
	str, err := tok.SignedString(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return str
}

// tamper rewrites the payload to claim admin, keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	json.Unmarshal(b, &c)
	c["scope"] = "admin"
	b, _ = json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func TestJWTConfigValidate(t *testing.T) {
	if err := (auth.JWTConfig{KeyFile: "a", JWKSURL: "b"}).Validate(); err == nil {
		t.Fatal("both sources accepted")
	}
	if err := (auth.JWTConfig{Issuer: "x"}).Validate(); err == nil {
		t.Fatal("issuer without keys accepted")
	}
}

// TestJWKSUnreachable: a JWT that cannot be checked because the JWKS
// was never fetched is ErrKeysUnavailable (503), not a bad token.
func TestJWKSUnreachable(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer idp.Close()
	a, err := auth.New(auth.Config{JWT: auth.JWTConfig{JWKSURL: idp.URL}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := rsaSigner(t, "k1")
	if _, err := a.Authenticate(context.Background(), s.token(t, claims(time.Minute, "admin"))); !errors.Is(err, auth.ErrKeysUnavailable) || errors.Is(err, auth.ErrBadCredential) {
		t.Fatalf("err %v", err)
	}
}

// TestVerifiedJWTIsNotTrustedPastItsExp: a verified token is remembered
// (BenchmarkAuthenticate), but never past its exp.
func TestVerifiedJWTIsNotTrustedPastItsExp(t *testing.T) {
	s := rsaSigner(t, "")
	der, _ := x509.MarshalPKIXPublicKey(s.key.Public())
	path := filepath.Join(t.TempDir(), "idp.pem")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	a, err := auth.New(auth.Config{JWT: auth.JWTConfig{KeyFile: path}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.token(t, jwt.MapClaims{"sub": "svc", "exp": time.Now().Add(1500 * time.Millisecond).Unix(), "scope": "inventory:read"})
	if _, err := a.Authenticate(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 5*time.Second, "token refused once expired", func() error {
		if _, err := a.Authenticate(context.Background(), tok); !errors.Is(err, auth.ErrBadCredential) {
			return fmt.Errorf("still accepted (%v)", err)
		}
		return nil
	})
}
