package auth

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// API keys are configured as lines of three fields:
//
//	<id> <scope>[,<scope>...] <sha256>
//
// where <sha256> is the hex SHA-256 of the key itself (optionally written
// "sha256:<hex>"); blank lines and lines starting with # are skipped. The
// key is never stored, so a leaked file grants nothing. Keys must be high
// entropy (32 random bytes, say): a hash of a guessable key is a guessable
// key. HashKey computes the hash.

// HashKey is the hex SHA-256 of key, as a key line holds it.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// ParseKeys reads key lines; source names them in errors.
func ParseKeys(text, source string) (map[[sha256.Size]byte]Principal, error) {
	keys := map[[sha256.Size]byte]Principal{}
	ids := map[string]bool{}
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p, sum, err := parseKeyLine(line)
		if err == nil && ids[p.ID] {
			err = fmt.Errorf("key id %q given twice", p.ID)
		}
		if err == nil {
			if _, dup := keys[sum]; dup {
				err = fmt.Errorf("key %q has the same hash as another key", p.ID)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: %s line %d: %w", source, n, err))
			continue
		}
		ids[p.ID] = true
		keys[sum] = p
	}
	return keys, errors.Join(errs...)
}

func parseKeyLine(line string) (Principal, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f := strings.Fields(line)
	if len(f) != 3 {
		return Principal{}, sum, fmt.Errorf("want 3 fields (id, scopes, sha256 of the key), got %d", len(f))
	}
	if len(f[0]) > MaxIDLength {
		return Principal{}, sum, fmt.Errorf("key id over %d bytes", MaxIDLength)
	}
	p := Principal{ID: f[0]}
	for _, s := range strings.Split(f[1], ",") {
		sc := Scope(s)
		if !sc.Known() {
			return Principal{}, sum, fmt.Errorf("unknown scope %q (known: %v)", s, Scopes)
		}
		p.Scopes = append(p.Scopes, sc)
	}
	h, err := hex.DecodeString(strings.TrimPrefix(f[2], "sha256:"))
	if err != nil || len(h) != sha256.Size {
		return Principal{}, sum, errors.New("third field must be the 64 hex digits of the key's SHA-256")
	}
	copy(sum[:], h)
	return p, sum, nil
}

// keyFile is a key file, re-read when it changes.
type keyFile struct {
	path  string
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	checked time.Time
	info    os.FileInfo
	keys    map[[sha256.Size]byte]Principal
}

// openKeyFile reads path; a file that does not parse is an error.
func openKeyFile(path string, every time.Duration, log *slog.Logger) (*keyFile, error) {
	f := &keyFile{path: path, every: every, log: log}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("auth: api keys file: %w", err)
	}
	if f.keys, err = readKeyFile(path); err != nil {
		return nil, err
	}
	f.info, f.checked = info, time.Now()
	return f, nil
}

func readKeyFile(path string) (map[[sha256.Size]byte]Principal, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("auth: api keys file: %w", err)
	}
	return ParseKeys(string(b), path)
}

// current is the key set, re-read first when the file changed since the
// last look (at most one look per f.every). A file that no longer parses
// or cannot be read leaves the last good set in force, and says so in
// the log: a typo while rotating must not lock every client out.
func (f *keyFile) current() map[[sha256.Size]byte]Principal {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	if now.Sub(f.checked) < f.every {
		return f.keys
	}
	f.checked = now
	info, err := os.Stat(f.path)
	if err != nil {
		f.log.Error("api keys file unreadable; keeping the keys read before", "path", f.path, "err", err)
		return f.keys
	}
	if os.SameFile(info, f.info) && info.ModTime().Equal(f.info.ModTime()) && info.Size() == f.info.Size() {
		return f.keys
	}
	keys, err := readKeyFile(f.path)
	if err != nil {
		f.log.Error("api keys file does not parse; keeping the keys read before", "path", f.path, "err", err)
		// Not again until it changes once more.
		f.info = info
		return f.keys
	}
	f.info, f.keys = info, keys
	f.log.Info("api keys reloaded", "path", f.path, "keys", len(keys))
	return f.keys
}
