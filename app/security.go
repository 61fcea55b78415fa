package app

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/sellable/inventory/api"
	"github.com/sellable/inventory/auth"
)

// Security is how a program's HTTP listeners are protected: who may
// call (API keys, JWTs), over what (TLS), and how often.
type Security struct {
	Auth auth.Config
	// TLSCert and TLSKey, both set, make every listener serve HTTPS.
	TLSCert, TLSKey string
	// Insecure allows listening on a non-loopback address with no
	// credentials configured.
	Insecure bool
	// Rate and Burst limit each principal on the command routes
	// (api.Guard).
	Rate, Burst int
}

// JWTLeeway is the clock skew allowed on a JWT's exp and nbf.
const JWTLeeway = 30 * time.Second

// SecurityFlags registers the security settings on f.
func SecurityFlags(f Flags) *Security {
	s := &Security{}
	f.StringVar(&s.Auth.KeysFile, "api-keys-file", "INVENTORY_API_KEYS_FILE", "", `file of API keys, one "<id> <scope>[,<scope>...] <sha256 of the key>" a line; re-read when it changes`)
	f.StringVar(&s.Auth.Keys, "api-keys", "INVENTORY_API_KEYS", "", `API keys inline, as in the file, separated by ";"`)
	f.StringVar(&s.Auth.JWT.KeyFile, "jwt-key-file", "INVENTORY_JWT_KEY_FILE", "", "PEM public key(s) or JWKS file that JWTs are verified with")
	f.StringVar(&s.Auth.JWT.JWKSURL, "jwt-jwks-url", "INVENTORY_JWT_JWKS_URL", "", "JWKS URL that JWTs are verified with")
	f.StringVar(&s.Auth.JWT.Issuer, "jwt-issuer", "INVENTORY_JWT_ISSUER", "", "required iss of a JWT (not checked when empty)")
	f.StringVar(&s.Auth.JWT.Audience, "jwt-audience", "INVENTORY_JWT_AUDIENCE", "", "required aud of a JWT (not checked when empty)")
	f.StringVar(&s.TLSCert, "tls-cert", "INVENTORY_TLS_CERT", "", "PEM certificate (chain) to serve HTTPS with; needs --tls-key")
	f.StringVar(&s.TLSKey, "tls-key", "INVENTORY_TLS_KEY", "", "PEM private key of --tls-cert")
	f.BoolVar(&s.Insecure, "insecure", "INVENTORY_INSECURE", false, "allow a non-loopback listen address without any credential configured")
	f.IntVar(&s.Rate, "rate-limit", "INVENTORY_RATE_LIMIT", 200, "command requests per second each principal may send (0: no limit)")
	f.IntVar(&s.Burst, "rate-burst", "INVENTORY_RATE_BURST", 400, "command requests a principal may send at once above --rate-limit")
	s.Auth.JWT.Leeway = JWTLeeway
	return s
}

// Validate reports settings that cannot work.
func (s Security) Validate() error {
	var errs []error
	if (s.TLSCert == "") != (s.TLSKey == "") {
		errs = append(errs, errors.New("app: --tls-cert and --tls-key go together"))
	}
	if s.Rate < 0 || s.Burst < 0 {
		errs = append(errs, errors.New("app: --rate-limit and --rate-burst must not be negative"))
	}
	errs = append(errs, s.Auth.JWT.Validate())
	return errors.Join(errs...)
}

// ErrUnprotected means a listener would be reachable from the network
// with nobody's credentials required.
var ErrUnprotected = errors.New("refusing to serve without credentials on a non-loopback address")

// CheckListen refuses addr when it is not a loopback address and no
// credential is configured, unless Insecure; the error says how to fix
// it.
func (s Security) CheckListen(addr string) error {
	if s.Auth.Enabled() || s.Insecure || isLoopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: HTTP %s. Configure API keys (--api-keys-file / INVENTORY_API_KEYS_FILE or INVENTORY_API_KEYS) "+
		"or JWTs (--jwt-jwks-url / INVENTORY_JWT_JWKS_URL or --jwt-key-file), listen on 127.0.0.1, "+
		"or pass --insecure (INVENTORY_INSECURE=true) to serve anyone who can connect; see the README, \"Running it securely\"", ErrUnprotected, addr)
}

// isLoopback reports whether addr's host only accepts local
// connections: a loopback IP or "localhost". An empty host or 0.0.0.0
// listens everywhere.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard builds what api.Protect enforces; nil Auth when no credential
// is configured.
func (s Security) guard(log *slog.Logger) (api.Guard, error) {
	g := api.Guard{Rate: float64(s.Rate), Burst: s.Burst}
	if !s.Auth.Enabled() {
		return g, nil
	}
	a, err := auth.New(s.Auth, log)
	if err != nil {
		return g, err
	}
	g.Auth = a
	return g, nil
}

// tlsConfig loads the certificate, or is nil without one.
func (s Security) tlsConfig() (*tls.Config, error) {
	if s.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("app: tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
