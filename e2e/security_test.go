package e2e

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	invapi "github.com/sellable/inventory/api"
	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/auth"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/internal/tlstest"
	"github.com/sellable/inventory/registry"
	"github.com/sellable/inventory/streams"
)

// Asked to listen beyond loopback with no credential, a program does not
// start, and says how to configure one; --insecure starts it anyway.
func TestNonLoopbackWithoutCredentialsRefusesToStart(t *testing.T) {
	t.Parallel()
	a := newAllInOne(t)
	wild := "0.0.0.0:" + port(strings.TrimPrefix(a.base, "http://"))
	a.env["INVENTORY_HTTP_ADDR"] = wild
	p := start(t, "inventory", "inventory", a.env)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("inventory on 0.0.0.0 without credentials is still running")
	}
	var exit *exec.ExitError
	if p.mu.Lock(); !errors.As(p.err, &exit) || exit.ExitCode() == 0 {
		t.Errorf("exit: %v, want a failure", p.err)
	}
	p.mu.Unlock()
	out, _ := os.ReadFile(p.log)
	for _, hint := range []string{"refusing to serve without credentials", wild, "INVENTORY_API_KEYS_FILE", "--insecure"} {
		if !strings.Contains(string(out), hint) {
			t.Errorf("output does not say %q:\n%s", hint, out)
		}
	}

	a.env["INVENTORY_INSECURE"] = "true"
	a.start(t).stop()
}

// secured is an all-in-one with API keys in a file, JWTs from a JWKS the
// test serves, TLS with a certificate the test made, and the profiler.
type secured struct {
	*allInOne
	keysFile  string
	keyLines  []string
	keys      map[auth.Scope]string // scope -> key holding only it
	certs     tlstest.Certs
	https     *http.Client
	pprofBase string
	idp       *rsa.PrivateKey
}

const jwtIssuer, jwtAudience = "https://idp.e2e.test", "inventory"

func newSecured(t *testing.T) *secured {
	s := &secured{allInOne: newAllInOne(t), keys: map[auth.Scope]string{}, certs: tlstest.New(t)}
	var lines []string
	for _, sc := range auth.Scopes {
		key := randomKey(t)
		s.keys[sc] = key
		lines = append(lines, fmt.Sprintf("e2e-%s %s %s", strings.ReplaceAll(string(sc), ":", "-"), sc, auth.HashKey(key)))
	}
	s.keysFile, s.keyLines = filepath.Join(t.TempDir(), "api-keys"), lines
	writeKeys(t, s.keysFile, lines...)

	var err error
	if s.idp, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "e2e", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(s.idp.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(s.idp.E)).Bytes()),
	}}})
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(set) }))
	t.Cleanup(jwks.Close)

	addr := strings.TrimPrefix(s.base, "http://")
	s.base = "https://" + addr
	pprofAddr := freeAddr(t)
	s.pprofBase = "https://" + pprofAddr
	for k, v := range map[string]string{
		// Not loopback: the credentials are what allows it.
		"INVENTORY_HTTP_ADDR":                "0.0.0.0:" + port(addr),
		"INVENTORY_API_KEYS_FILE":            s.keysFile,
		"INVENTORY_JWT_JWKS_URL":             jwks.URL,
		"INVENTORY_JWT_ISSUER":               jwtIssuer,
		"INVENTORY_JWT_AUDIENCE":             jwtAudience,
		"INVENTORY_TLS_CERT":                 s.certs.CertFile,
		"INVENTORY_TLS_KEY":                  s.certs.KeyFile,
		"INVENTORY_PPROF_ADDR":               pprofAddr,
		"INVENTORY_HTTP_READ_HEADER_TIMEOUT": "1s",
		// Room for what the other subtests send with one key, not for
		// the burst of the "rate" subtest.
		"INVENTORY_RATE_LIMIT": "5",
		"INVENTORY_RATE_BURST": "20",
	} {
		s.env[k] = v
	}
	s.https = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.certs.ClientConfig()}}
	start(t, "inventory", "inventory", s.env)
	poll.Until(t, 30*time.Second, s.base+" ready", func() error {
		st, _, err := s.call("GET", s.base+"/readyz", "", "")
		if err == nil && st != http.StatusOK {
			err = fmt.Errorf("status %d", st)
		}
		return err
	})
	return s
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// writeKeys replaces the key file as an operator would: beside, then
// renamed over.
func writeKeys(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

func (s *secured) call(method, url, token, body string) (int, http.Header, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.https.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

func (s *secured) jwt(t *testing.T, key *rsa.PrivateKey, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "e2e"
	str, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return str
}

// allInOneRoutes are the routes services/inventory serves on its API
// listener, composed as its main composes them (over nil
// dependencies: registering touches none).
func allInOneRoutes() []*echo.Route {
	log := slog.New(slog.DiscardHandler)
	e := invapi.NewServer(log)
	(&app.Pipeline{}).Register(e, nil, nil)
	app.RegisterCommands(e, nil, app.Topology{}, app.Wire{})
	registry.NewHandler(nil, log).Register(e)
	return e.Routes()
}

var routeParam = regexp.MustCompile(`:[A-Za-z0-9_]+`)

// concrete is a path for the route pattern.
func concrete(pattern string) string {
	p := routeParam.ReplaceAllStringFunc(pattern, func(name string) string {
		switch name {
		case ":version", ":id":
			return "1"
		case ":subject":
			return "e2e-matrix-value"
		}
		return "e2e-matrix"
	})
	return strings.TrimSuffix(p, "*")
}

// TestSecuredAllInOne runs one all-in-one with credentials and TLS
// through the authorization matrix, JWTs good and bad, the principal
// in the stored event, a key rotated on the running process, and a
// slowloris client.
func TestSecuredAllInOne(t *testing.T) {
	t.Parallel()
	s := newSecured(t)

	t.Run("matrix", func(t *testing.T) {
		type target struct{ base, method, path string }
		var targets []target
		for _, r := range allInOneRoutes() {
			targets = append(targets, target{s.base, r.Method, r.Path})
		}
		for _, r := range app.PprofAPI(slog.New(slog.DiscardHandler)).Routes() {
			targets = append(targets, target{s.pprofBase, r.Method, r.Path})
		}
		if len(targets) < 25 {
			t.Fatalf("only %d routes", len(targets))
		}
		for _, tg := range targets {
			route := tg.method + " " + tg.path
			scope, listed := invapi.RouteScopes[route]
			if !listed {
				t.Errorf("%s: not in api.RouteScopes", route)
				continue
			}
			url, body := tg.base+concrete(tg.path), ""
			if tg.method != http.MethodGet {
				body = "{}"
			}
			status := func(token string) int {
				st, _, err := s.call(tg.method, url, token, body)
				if err != nil {
					t.Fatalf("%s: %v", route, err)
				}
				return st
			}
			if scope == invapi.Open {
				if st := status(""); st == 401 || st == 403 {
					t.Errorf("%s is open, answered %d without a credential", route, st)
				}
				continue
			}
			if st := status(""); st != 401 {
				t.Errorf("%s without a credential: %d, want 401", route, st)
			}
			for _, other := range auth.Scopes {
				if other == scope || other == auth.ScopeAdmin {
					continue
				}
				if st := status(s.keys[other]); st != 403 {
					t.Errorf("%s with scope %s only: %d, want 403", route, other, st)
				}
			}
			for _, right := range []auth.Scope{scope, auth.ScopeAdmin} {
				if st := status(s.keys[right]); st == 401 || st == 403 || st == 429 {
					t.Errorf("%s with scope %s: %d", route, right, st)
				}
			}
		}
	})

	nc, err := nats.Connect(s.natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// stored posts an adjustment with token and returns the stored event's
	// source header and body.
	stored := func(t *testing.T, token string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.base+"/inventory/adjustment", strings.NewReader(`{"locationId":"e2e-sec","sku":"src","count":3}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.https.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Seq uint64 }
		if resp.StatusCode != http.StatusCreated {
			return resp.StatusCode, "", ""
		}
		json.NewDecoder(resp.Body).Decode(&out)
		st, err := js.Stream(context.Background(), streams.EventStream)
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.GetMsg(context.Background(), out.Seq)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m.Header.Get(streams.HeaderSource), string(m.Data)
	}

	t.Run("jwt", func(t *testing.T) {
		now := time.Now()
		claims := func(exp time.Time, aud string) jwt.MapClaims {
			return jwt.MapClaims{"sub": "svc-wms", "iss": jwtIssuer, "aud": aud, "exp": exp.Unix(), "scope": "inventory:adjust"}
		}
		good := s.jwt(t, s.idp, claims(now.Add(time.Minute), jwtAudience))
		status, src, _ := stored(t, good)
		if status != 201 || src != "svc-wms" {
			t.Fatalf("valid JWT: %d, source %q", status, src)
		}
		forger, _ := rsa.GenerateKey(rand.Reader, 2048)
		for name, tok := range map[string]string{
			"expired":        s.jwt(t, s.idp, claims(now.Add(-time.Hour), jwtAudience)),
			"forged":         s.jwt(t, forger, claims(now.Add(time.Minute), jwtAudience)),
			"other audience": s.jwt(t, s.idp, claims(now.Add(time.Minute), "billing")),
		} {
			st, h, err := s.call("POST", s.base+"/inventory/adjustment", tok, `{"locationId":"e2e-sec","sku":"jwt","count":1}`)
			if err != nil || st != 401 || !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("%s JWT: %d %v %v", name, st, h, err)
			}
		}
		// The Avro body records it too: the header is what a dead
		// letter keeps, the body what the history reads.
		if _, _, body := stored(t, s.keys[auth.ScopeAdjust]); !strings.Contains(body, "e2e-inventory-adjust") {
			t.Errorf("stored body %q does not name the key id", body)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		fresh := randomKey(t)
		// The adjust key is replaced; the others stay.
		var lines []string
		for _, l := range s.keyLines {
			if !strings.HasPrefix(l, "e2e-inventory-adjust ") {
				lines = append(lines, l)
			}
		}
		writeKeys(t, s.keysFile, append(lines, "e2e-rotated inventory:adjust "+auth.HashKey(fresh))...)
		poll.Until(t, 10*time.Second, "rotated key accepted", func() error {
			if st, src, _ := stored(t, fresh); st != 201 || src != "e2e-rotated" {
				return fmt.Errorf("status %d, source %q", st, src)
			}
			return nil
		})
		if st, _, _ := s.call("POST", s.base+"/inventory/adjustment", s.keys[auth.ScopeAdjust], `{"locationId":"e2e-sec","sku":"r","count":1}`); st != 401 {
			t.Errorf("revoked key: %d, want 401", st)
		}
		s.keys[auth.ScopeAdjust] = fresh
	})

	// Issue 13, item 8: anyone could PUT /config NONE, or register an
	// incompatible version under an event subject.
	t.Run("registry", func(t *testing.T) {
		level := func() string {
			req, _ := http.NewRequest("GET", s.base+"/config", nil)
			req.Header.Set("Authorization", "Bearer "+s.keys[auth.ScopeRead])
			resp, err := s.https.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out struct{ CompatibilityLevel string }
			json.NewDecoder(resp.Body).Decode(&out)
			return out.CompatibilityLevel
		}
		before := level()
		incompatible := `{"schema":"{\"type\":\"record\",\"name\":\"Adjustment\",\"namespace\":\"com.sellable.inventory\",\"fields\":[{\"name\":\"x\",\"type\":\"long\"}]}"}`
		for _, sc := range []auth.Scope{auth.ScopeAdjust, auth.ScopeReserve, auth.ScopeRead} {
			if st, _, _ := s.call("PUT", s.base+"/config", s.keys[sc], `{"compatibility":"NONE"}`); st != 403 {
				t.Errorf("PUT /config NONE with %s: %d, want 403", sc, st)
			}
			if st, _, _ := s.call("POST", s.base+"/subjects/inventory.adjustments-value/versions", s.keys[sc], incompatible); st != 403 {
				t.Errorf("registering under an event subject with %s: %d, want 403", sc, st)
			}
		}
		if after := level(); after != before || after == "" {
			t.Errorf("compatibility level %q, was %q", after, before)
		}
		if st, _, _ := s.call("PUT", s.base+"/config/e2e-registry-value", s.keys[auth.ScopeRegistryWrite], `{"compatibility":"FULL"}`); st != 200 {
			t.Errorf("PUT /config/{subject} with registry:write: %d", st)
		}
	})

	t.Run("rate", func(t *testing.T) {
		limited := false
		for i := 0; i < 40 && !limited; i++ {
			st, h, err := s.call("POST", s.base+"/inventory/reservation", s.keys[auth.ScopeReserve], `{"locationId":"e2e-sec","sku":"rate","count":1}`)
			if err != nil {
				t.Fatal(err)
			}
			switch st {
			case 201:
			case 429:
				limited = true
				if ra := h.Get("Retry-After"); ra == "" || ra == "0" {
					t.Errorf("429 with Retry-After %q", ra)
				}
			default:
				t.Fatalf("reservation %d: status %d", i, st)
			}
		}
		if !limited {
			t.Fatal("40 reservations at once were never limited (burst 20)")
		}
		if st, _, _ := s.call("POST", s.base+"/inventory/reservation", s.keys[auth.ScopeAdmin], `{"locationId":"e2e-sec","sku":"rate","count":1}`); st != 201 {
			t.Errorf("another principal meanwhile: %d", st)
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		addr := strings.TrimPrefix(s.base, "https://")
		addr = net.JoinHostPort("127.0.0.1", port(addr))
		// Clients sending their headers a byte at a time, over TLS as
		// any client here must.
		const slow = 20
		var wg sync.WaitGroup
		cut := make(chan time.Duration, slow)
		errs := make(chan error, slow)
		for range slow {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d, err := slowClient(addr, s)
				cut <- d
				errs <- err
			}()
		}
		// Meanwhile others are served.
		deadline := time.Now().Add(3 * time.Second)
		served := 0
		for time.Now().Before(deadline) {
			if st, _, err := s.call("GET", s.base+"/inventory/locations/e2e-sec/skus/src", s.keys[auth.ScopeRead], ""); err != nil || st != 200 {
				t.Errorf("a client was not served meanwhile: %d %v", st, err)
				break
			}
			served++
		}
		wg.Wait()
		close(cut)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		for d := range cut {
			if d < 0 || d > 5*time.Second {
				t.Errorf("a slow client was cut off after %v, want about the 1s read-header timeout", d)
			}
		}
		t.Logf("%d requests served while %d slow clients were cut off", served, slow)
	})
}

// slowClient completes a TLS handshake, then sends a request's headers
// a byte every 100 ms; it returns how long until the server closed the
// connection (-1 if it never did within 15 s).
func slowClient(addr string, s *secured) (time.Duration, error) {
	c, err := tlsDial(addr, s)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	start := time.Now()
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 400) + "\r\n\r\n"
	for i := 0; time.Since(start) < 15*time.Second; i++ {
		if _, err := c.Write([]byte{req[i%len(req)]}); err != nil {
			return time.Since(start), nil
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			return time.Since(start), nil
		}
	}
	return -1, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func tlsDial(addr string, s *secured) (net.Conn, error) {
	return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, s.certs.ClientConfig())
}
