package app

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
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
