package projection

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config sets where the projection lives and how the projector consumes.
type Config struct {
	// Hosts are CQL contact points, host or host:port.
	Hosts []string
	// Keyspace is created when absent.
	Keyspace string
	// Replication of a new keyspace: "" or "N" for SimpleStrategy with
	// replication factor N (default 1), "dc1:3,dc2:3" for
	// NetworkTopologyStrategy, or a CQL map literal
	// "{'class': 'NetworkTopologyStrategy', 'dc1': 3}". An existing
	// keyspace is left as it is.
	Replication string
	// Timeout bounds one query; ConnectTimeout one dial. Short, so that a
	// dead node is noticed fast and the projector backs off instead of
	// hanging.
	Timeout        time.Duration
	ConnectTimeout time.Duration
	// Consumer names the durable consumers, "<Consumer>_p<i>" on each
	// view bucket's stream KV_sellable_p<i> (ConsumerName). Empty means
	// "projector_<keyspace>": each keyspace is a projection of its own
	// and must see every change, while the instances that write one
	// keyspace share its consumers.
	Consumer string
	// MaxInFlight bounds the writes under way at once.
	MaxInFlight int
	// MinBackoff and MaxBackoff bound the wait after a failed write before
	// the message is redelivered and before new writes are attempted.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives progress and failures; nil discards.
	Logger *slog.Logger
}

// DefaultConfig is a local single node with keyspace "inventory".
func DefaultConfig() Config {
	return Config{
		Hosts:          []string{"127.0.0.1:9042"},
		Keyspace:       "inventory",
		Timeout:        2 * time.Second,
		ConnectTimeout: 2 * time.Second,
		MaxInFlight:    64,
		MinBackoff:     100 * time.Millisecond,
		MaxBackoff:     5 * time.Second,
	}
}

// ParseHosts splits a comma-separated host list, dropping blanks.
func ParseHosts(s string) []string {
	var hosts []string
	for h := range strings.SplitSeq(s, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// CQL identifiers that need no quoting; keyspace names are at most 48.
var keyspaceName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)

// Validate reports every setting that is out of range.
func (c Config) Validate() error {
	var errs []error
	if len(c.Hosts) == 0 {
		errs = append(errs, errors.New("no hosts"))
	}
	if !keyspaceName.MatchString(c.Keyspace) {
		errs = append(errs, fmt.Errorf("keyspace %q: want a letter then up to 47 letters, digits or _", c.Keyspace))
	}
	if _, err := replicationMap(c.Replication); err != nil {
		errs = append(errs, err)
	}
	if c.Timeout <= 0 || c.ConnectTimeout <= 0 {
		errs = append(errs, errors.New("timeouts must be positive"))
	}
	if strings.ContainsAny(c.Consumer, ".*> \t") {
		errs = append(errs, fmt.Errorf("consumer name %q", c.Consumer))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, fmt.Errorf("max in flight %d < 1", c.MaxInFlight))
	}
	if c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff {
		errs = append(errs, errors.New("backoff: want 0 < min <= max"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

var dcName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// replicationMap turns Config.Replication into the CQL map literal of
// CREATE KEYSPACE.
func replicationMap(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "{'class': 'SimpleStrategy', 'replication_factor': 1}", nil
	case strings.HasPrefix(s, "{"):
		// Passed through as written; it is operator configuration, but a
		// statement separator has no business in it.
		if !strings.HasSuffix(s, "}") || strings.ContainsAny(s, ";") {
			return "", fmt.Errorf("replication %q: not a CQL map literal", s)
		}
		return s, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return "", fmt.Errorf("replication factor %d < 1", n)
		}
		return fmt.Sprintf("{'class': 'SimpleStrategy', 'replication_factor': %d}", n), nil
	}
	var b strings.Builder
	b.WriteString("{'class': 'NetworkTopologyStrategy'")
	for part := range strings.SplitSeq(s, ",") {
		dc, rf, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.Atoi(rf)
		if !ok || !dcName.MatchString(dc) || err != nil || n < 1 {
			return "", fmt.Errorf("replication %q: want N, dc:N,dc:N or a CQL map", s)
		}
		fmt.Fprintf(&b, ", '%s': %d", dc, n)
	}
	b.WriteString("}")
	return b.String(), nil
}

// consumer is the durable consumer's name.
func (c Config) consumer() string {
	if c.Consumer != "" {
		return c.Consumer
	}
	return "projector_" + c.Keyspace
}
