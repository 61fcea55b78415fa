package app

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Flags registers flags whose defaults come from environment variables,
// so every setting can be given either way (flags win). Parse, not the
// embedded FlagSet's, applies the environment.
type Flags struct {
	*flag.FlagSet
	env *[]envBinding
}

// envBinding ties a flag to the environment variable that sets it.
type envBinding struct{ flag, env string }

// NewFlags is a flag set for the program name.
func NewFlags(name string) Flags {
	return Flags{FlagSet: flag.NewFlagSet(name, flag.ExitOnError), env: new([]envBinding)}
}

// Parse sets every flag from its environment variable, then from args.
// An environment value that does not parse is an error naming the
// variable, the value and the type it must have: a typo such as
// INVENTORY_PARTITIONS=abc must stop the process, not quietly leave the
// default in force. An empty value counts as unset, except for strings,
// where empty is a value (NATS_URL="" embeds a server).
func (f Flags) Parse(args []string) error {
	for _, b := range *f.env {
		v, ok := os.LookupEnv(b.env)
		if !ok {
			continue
		}
		fl := f.Lookup(b.flag)
		if v == "" && !isString(fl) {
			continue
		}
		if err := fl.Value.Set(v); err != nil {
			return fmt.Errorf("environment %s=%q is not a valid %s (flag --%s): %w", b.env, v, typeName(fl), b.flag, err)
		}
	}
	return f.FlagSet.Parse(args)
}

func isString(fl *flag.Flag) bool {
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// typeName is what a flag's value must be, for error messages.
func typeName(fl *flag.Flag) string {
	g, ok := fl.Value.(flag.Getter)
	if !ok {
		return "value"
	}
	switch g.Get().(type) {
	case int, int64:
		return "integer"
	case time.Duration:
		return "duration (e.g. 90s, 24h)"
	case bool:
		return "boolean (true or false)"
	case byteSize:
		return "size (e.g. 1GiB, 768MiB; 0: none)"
	default:
		return "value"
	}
}

func (f Flags) bind(name, env string) {
	*f.env = append(*f.env, envBinding{flag: name, env: env})
}

// String is a string flag with an environment fallback.
func (f Flags) String(name, env, def, usage string) *string {
	p := new(string)
	f.StringVar(p, name, env, def, usage)
	return p
}

// StringVar is String into p.
func (f Flags) StringVar(p *string, name, env, def, usage string) {
	f.FlagSet.StringVar(p, name, def, usage+" (env "+env+")")
	f.bind(name, env)
}

// Int is an int flag with an environment fallback.
func (f Flags) Int(name, env string, def int, usage string) *int {
	p := new(int)
	f.IntVar(p, name, env, def, usage)
	return p
}

// IntVar is Int into p.
func (f Flags) IntVar(p *int, name, env string, def int, usage string) {
	f.FlagSet.IntVar(p, name, def, usage+" (env "+env+")")
	f.bind(name, env)
}

// Int64Var is an int64 flag into p with an environment fallback.
func (f Flags) Int64Var(p *int64, name, env string, def int64, usage string) {
	f.FlagSet.Int64Var(p, name, def, usage+" (env "+env+")")
	f.bind(name, env)
}

// DurationVar is a duration flag into p with an environment fallback.
func (f Flags) DurationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	f.FlagSet.DurationVar(p, name, def, usage+" (env "+env+")")
	f.bind(name, env)
}

// BoolVar is a boolean flag into p with an environment fallback.
func (f Flags) BoolVar(p *bool, name, env string, def bool, usage string) {
	f.FlagSet.BoolVar(p, name, def, usage+" (env "+env+")")
	f.bind(name, env)
}

// Var is a flag of any flag.Value with an environment fallback; the
// value's Set parses the environment as it parses the flag.
func (f Flags) Var(v flag.Value, name, env, usage string) {
	f.FlagSet.Var(v, name, usage+" (env "+env+")")
	f.bind(name, env)
}

// LogLevelEnv sets the log level; it has no flag, since the logger exists
// before the flags are parsed.
const LogLevelEnv = "INVENTORY_LOG_LEVEL"

// Logger is the process logger: text on stderr at the level named by
// INVENTORY_LOG_LEVEL (debug, info, warn, error; default info). A level
// it does not know is an error, like any other malformed setting.
func Logger() (*slog.Logger, error) {
	var level slog.Level
	if v := os.Getenv(LogLevelEnv); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return nil, fmt.Errorf("environment %s=%q is not a level (debug, info, warn, error): %w", LogLevelEnv, v, err)
		}
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil
}

// positiveDuration is a duration flag value that must be above zero, for
// windows and timeouts where zero would mean "never".
type positiveDuration struct{ p *time.Duration }

func (d positiveDuration) String() string {
	if d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d positiveDuration) Get() any { return *d.p }

func (d positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return errors.New("want a positive Go duration such as 10m or 24h")
	}
	*d.p = v
	return nil
}

// MemoryLimitEnv is the Go runtime's own setting of a soft memory limit;
// when it is in the environment and --memory-limit is not given, it
// stands (the runtime has applied it before main).
const MemoryLimitEnv = "GOMEMLIMIT"

// MemoryLimit is the Go runtime's soft memory limit for a process
// (debug.SetMemoryLimit). The collector runs sooner as the heap nears it,
// instead of letting the heap grow to twice the live heap (GOGC=100):
// that headroom was half of the all-in-one's RSS after a million keys
// (BENCHMARKS.md "A million keys in bounded memory"). It is soft: a live
// heap above it makes the collector run often, at up to about half the
// CPU, but never fails an allocation.
type MemoryLimit struct {
	// Bytes is the limit; 0 is none.
	Bytes int64
	// set is true once the flag or its environment variable gave it.
	set bool
}

func (m *MemoryLimit) String() string {
	if m == nil || m.Bytes <= 0 {
		return "0"
	}
	return formatBytes(m.Bytes)
}

// Get is the limit in bytes.
func (m *MemoryLimit) Get() any { return byteSize(m.Bytes) }

// byteSize is what Get returns, so a malformed setting's error names the
// form it wants (typeName).
type byteSize int64

// Set reads a byte count with an optional unit (B, KiB, MiB, GiB, KB, MB,
// GB; 1536MiB, 1.5GiB) or 0 for no limit.
func (m *MemoryLimit) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	m.Bytes, m.set = n, true
	return nil
}

// Apply sets the runtime's limit and says which applies: an explicit
// setting wins, then GOMEMLIMIT from the environment, then the default.
func (m *MemoryLimit) Apply(log *slog.Logger) {
	if !m.set && os.Getenv(MemoryLimitEnv) != "" {
		log.Info("memory limit from the environment", "GOMEMLIMIT", os.Getenv(MemoryLimitEnv))
		return
	}
	limit := m.Bytes
	if limit <= 0 {
		limit = math.MaxInt64 // the runtime's "no limit"
	}
	debug.SetMemoryLimit(limit)
	if m.Bytes > 0 {
		log.Info("memory limit", "limit", formatBytes(m.Bytes))
	}
}

// MemoryLimitFlag registers --memory-limit (INVENTORY_MEMORY_LIMIT) with
// def bytes as its default (0: none).
func MemoryLimitFlag(f Flags, def int64, usage string) *MemoryLimit {
	m := &MemoryLimit{Bytes: def}
	f.Var(m, "memory-limit", "INVENTORY_MEMORY_LIMIT", usage)
	return m
}

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads "0", "123", "512MiB", "1.5GiB", "800MB".
func parseBytes(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("want a size such as 1GiB, 768MiB or 0 (none), not %q", s)
	}
	return int64(v * mult), nil
}

// formatBytes writes n in the largest binary unit that divides it.
func formatBytes(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// DefaultMemoryLimit is the all-in-one's soft memory limit unless told
// otherwise (BENCHMARKS.md "A million keys in bounded memory"). After a
// million distinct keys its live heap is about 1.0 GB with each change
// stored once (1.36 GB while SELLABLE was written too), most of it the
// embedded server's, and without a limit the collector let RSS reach
// 2.1 GB (2.8 GB); at 1.5 GiB RSS stayed at 1.5 GB for 0–15 % more CPU
// per event. A smaller catalogue (RSS 200–650 MB up to 100 000
// keys) never reaches it and pays nothing; a limit near the live heap
// costs more than the memory is worth (1 GiB over a 1.36 GB live heap:
// 2.5 × the CPU per event), so a catalogue well beyond a million keys
// needs it raised.
const DefaultMemoryLimit = 1536 << 20
