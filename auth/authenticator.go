package auth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config says where credentials come from. The zero value configures
// none: Enabled is false and the programs serve only on loopback.
type Config struct {
	// KeysFile is a file of key lines (see ParseKeys), re-read when it
	// changes (at most every KeysRecheck).
	KeysFile string
	// Keys holds key lines inline, separated by newlines or ";" (the
	// environment's form); they change only with a restart.
	Keys string
	// KeysRecheck is how often the key file is checked for a change;
	// zero means one second.
	KeysRecheck time.Duration
	JWT         JWTConfig
}

// Enabled reports whether any credential is configured.
func (c Config) Enabled() bool {
	return c.KeysFile != "" || strings.TrimSpace(c.Keys) != "" || c.JWT.Enabled()
}

// Authenticator finds the principal behind a bearer token.
type Authenticator struct {
	file   *keyFile
	inline map[[sha256.Size]byte]Principal
	jwt    *jwtVerifier
}

// New reads the keys and key files of cfg; a malformed one is an error.
func New(cfg Config, log *slog.Logger) (*Authenticator, error) {
	if err := cfg.JWT.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &Authenticator{}
	var err error
	if a.inline, err = ParseKeys(strings.ReplaceAll(cfg.Keys, ";", "\n"), "api keys"); err != nil {
		return nil, err
	}
	if cfg.KeysFile != "" {
		every := cfg.KeysRecheck
		if every <= 0 {
			every = time.Second
		}
		if a.file, err = openKeyFile(cfg.KeysFile, every, log); err != nil {
			return nil, err
		}
	}
	if cfg.JWT.Enabled() {
		if a.jwt, err = newJWTVerifier(cfg.JWT); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Authenticate returns the principal of token: an API key when its hash
// is configured, else a JWT when JWTs are. It may fetch a JWKS within ctx.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, ErrNoCredential
	}
	sum := sha256.Sum256([]byte(token))
	if p, ok := a.inline[sum]; ok {
		return p, nil
	}
	if a.file != nil {
		if p, ok := a.file.current()[sum]; ok {
			return p, nil
		}
	}
	if a.jwt != nil && strings.Count(token, ".") == 2 {
		return a.jwt.verify(ctx, token, sum)
	}
	return Principal{}, fmt.Errorf("%w: unknown API key", ErrBadCredential)
}
