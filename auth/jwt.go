package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig says which JWTs are accepted: signed by one of the public
// keys of KeyFile or of the JWKS at JWKSURL, with an exp in the future,
// an nbf (when present) in the past, and the issuer and audience given
// here (when given). The principal is the sub claim; its scopes are the
// space-separated "scope" claim or the "scp" claim (a list or a
// space-separated string). Only asymmetric algorithms are accepted
// (RS*, PS*, ES*, EdDSA): a service that can verify a token cannot sign
// one.
type JWTConfig struct {
	// KeyFile holds PEM public keys ("PUBLIC KEY" or certificates) or a
	// JWKS document.
	KeyFile string
	// JWKSURL is fetched when a token names a key id not seen before (at
	// most once per JWKSMinRefresh) and when the keys are older than
	// JWKSMaxAge.
	JWKSURL string
	// Issuer, when set, must equal the iss claim.
	Issuer string
	// Audience, when set, must be one of the aud claim's values.
	Audience string
	// Leeway is the clock skew allowed on exp and nbf.
	Leeway time.Duration
}

// Enabled reports whether JWTs are configured at all.
func (c JWTConfig) Enabled() bool { return c.KeyFile != "" || c.JWKSURL != "" }

// Validate reports settings that cannot work together.
func (c JWTConfig) Validate() error {
	var errs []error
	if c.KeyFile != "" && c.JWKSURL != "" {
		errs = append(errs, errors.New("auth: give a JWT key file or a JWKS URL, not both"))
	}
	if !c.Enabled() && (c.Issuer != "" || c.Audience != "") {
		errs = append(errs, errors.New("auth: a JWT issuer or audience needs a JWT key file or JWKS URL"))
	}
	if c.Leeway < 0 {
		errs = append(errs, fmt.Errorf("auth: JWT leeway %v must not be negative", c.Leeway))
	}
	return errors.Join(errs...)
}

// JWKS refresh bounds.
const (
	JWKSMinRefresh = 5 * time.Second
	JWKSMaxAge     = 10 * time.Minute
)

// jwtMethods are the algorithms accepted; "none" and HMAC never are.
var jwtMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

type jwtVerifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
	keys   *keySet
	cache  verified
}

// A verified token is remembered for at most verifiedFor (and never past
// its exp): a signature check costs tens of microseconds to milliseconds
// (BENCHMARKS.md), a client sends the same token with every request, and
// a key removed from the JWKS stops being trusted within this time.
const (
	verifiedFor = time.Minute
	maxVerified = 10_000
)

// verified maps a token's SHA-256 to its principal and until when.
type verified struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	p     Principal
	until time.Time
}

func (v *verified) get(sum [32]byte, now time.Time) (Principal, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.m[sum]
	if !ok || !now.Before(t.until) {
		return Principal{}, false
	}
	return t.p, true
}

func (v *verified) put(sum [32]byte, p Principal, until time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerified {
		v.m = map[[32]byte]verifiedToken{} // start afresh rather than track age
	}
	v.m[sum] = verifiedToken{p: p, until: until}
}

func newJWTVerifier(cfg JWTConfig) (*jwtVerifier, error) {
	opts := []jwt.ParserOption{jwt.WithValidMethods(jwtMethods), jwt.WithExpirationRequired(), jwt.WithLeeway(cfg.Leeway)}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v := &jwtVerifier{cfg: cfg, parser: jwt.NewParser(opts...), keys: &keySet{url: cfg.JWKSURL, client: &http.Client{Timeout: 5 * time.Second}}}
	if cfg.KeyFile != "" {
		b, err := os.ReadFile(cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("auth: JWT key file: %w", err)
		}
		keys, err := parseKeyFile(b)
		if err != nil {
			return nil, fmt.Errorf("auth: JWT key file %s: %w", cfg.KeyFile, err)
		}
		v.keys.keys = keys
	}
	return v, nil
}

// claims are the registered claims and the two spellings of scopes.
type claims struct {
	jwt.RegisteredClaims
	Scope string          `json:"scope"`
	Scp   json.RawMessage `json:"scp"`
}

func (c claims) scopes() []Scope {
	words := strings.Fields(c.Scope)
	if len(c.Scp) > 0 {
		var list []string
		var one string
		if json.Unmarshal(c.Scp, &list) == nil {
			words = append(words, list...)
		} else if json.Unmarshal(c.Scp, &one) == nil {
			words = append(words, strings.Fields(one)...)
		}
	}
	var out []Scope
	for _, w := range words {
		// Scopes of other services in the same token are not ours.
		if s := Scope(w); s.Known() {
			out = append(out, s)
		}
	}
	return out
}

func (v *jwtVerifier) verify(ctx context.Context, token string, sum [32]byte) (Principal, error) {
	now := time.Now()
	if p, ok := v.cache.get(sum, now); ok {
		return p, nil
	}
	var c claims
	_, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.keys.lookup(ctx, kid)
	})
	if errors.Is(err, ErrKeysUnavailable) {
		return Principal{}, err
	}
	if err != nil {
		return Principal{}, fmt.Errorf("%w: jwt: %w", ErrBadCredential, err)
	}
	if c.Subject == "" || len(c.Subject) > MaxIDLength {
		return Principal{}, fmt.Errorf("%w: jwt: sub claim empty or over %d bytes", ErrBadCredential, MaxIDLength)
	}
	p := Principal{ID: c.Subject, Scopes: c.scopes()}
	until := now.Add(verifiedFor)
	if exp := c.ExpiresAt.Time; exp.Before(until) {
		until = exp // exp is required: the parser checked it is there
	}
	v.cache.put(sum, p, until)
	return p, nil
}

// keySet holds the verification keys: from a file (url empty, fixed) or
// from a JWKS URL, fetched again for an unknown key id.
type keySet struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    []jwk
	fetched time.Time
}

type jwk struct {
	kid string
	key crypto.PublicKey
}

// lookup returns the key named kid, or every key when the token names
// none (the library tries each).
func (s *keySet) lookup(ctx context.Context, kid string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.url != "" && (s.keys == nil || time.Since(s.fetched) > JWKSMaxAge || (kid != "" && !s.has(kid) && time.Since(s.fetched) > JWKSMinRefresh)) {
		if err := s.fetch(ctx); err != nil && s.keys == nil {
			return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
		}
	}
	var set jwt.VerificationKeySet
	for _, k := range s.keys {
		if kid == "" || k.kid == "" || k.kid == kid {
			set.Keys = append(set.Keys, k.key)
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("no key with id %q", kid)
	}
	return set, nil
}

func (s *keySet) has(kid string) bool {
	for _, k := range s.keys {
		if k.kid == kid {
			return true
		}
	}
	return false
}

// fetch reads the JWKS; on failure the keys read before stay.
func (s *keySet) fetch(ctx context.Context) error {
	s.fetched = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: %s answered %s", s.url, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	keys, err := parseJWKS(b)
	if err != nil {
		return fmt.Errorf("jwks %s: %w", s.url, err)
	}
	s.keys = keys
	return nil
}

// parseKeyFile reads a JWKS document or PEM blocks of public keys.
func parseKeyFile(b []byte) ([]jwk, error) {
	if t := strings.TrimSpace(string(b)); strings.HasPrefix(t, "{") {
		return parseJWKS(b)
	}
	var keys []jwk
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		var key any
		var err error
		switch blk.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(blk.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(blk.Bytes); err == nil {
				key = cert.PublicKey
			}
		default:
			return nil, fmt.Errorf("PEM block %q: want PUBLIC KEY or CERTIFICATE", blk.Type)
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, jwk{key: key})
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key and not a JWKS document")
	}
	return keys, nil
}

// parseJWKS reads the signing keys of a JWK set (RFC 7517): RSA, EC
// (P-256, P-384, P-521) and Ed25519; others are skipped.
func parseJWKS(b []byte) ([]jwk, error) {
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a JWKS document: %w", err)
	}
	var keys []jwk
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var key crypto.PublicKey
		switch k.Kty {
		case "RSA":
			n, e := b64int(k.N), b64int(k.E)
			if n == nil || e == nil || !e.IsInt64() {
				return nil, fmt.Errorf("key %q: bad RSA n or e", k.Kid)
			}
			key = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			case "P-521":
				curve = elliptic.P521()
			default:
				continue
			}
			x, y := b64int(k.X), b64int(k.Y)
			if x == nil || y == nil {
				return nil, fmt.Errorf("key %q: bad EC x or y", k.Kid)
			}
			pk := &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
			// Refuse a point off the curve rather than verify with it.
			if _, err := pk.ECDH(); err != nil {
				return nil, fmt.Errorf("key %q: %w", k.Kid, err)
			}
			key = pk
		case "OKP":
			if k.Crv != "Ed25519" {
				continue
			}
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil || len(x) != ed25519.PublicKeySize {
				return nil, fmt.Errorf("key %q: bad Ed25519 x", k.Kid)
			}
			key = ed25519.PublicKey(x)
		default:
			continue
		}
		keys = append(keys, jwk{kid: k.Kid, key: key})
	}
	if len(keys) == 0 {
		return nil, errors.New("no signing key in the JWKS document")
	}
	return keys, nil
}

func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
