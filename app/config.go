package app

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Flags registers flags whose defaults come from environment variables,
// so every setting can be given either way (flags win).
type Flags struct{ *flag.FlagSet }

// NewFlags is a flag set for the program name.
func NewFlags(name string) Flags {
	return Flags{flag.NewFlagSet(name, flag.ExitOnError)}
}

// String is a string flag with an environment fallback.
func (f Flags) String(name, env, def, usage string) *string {
	p := new(string)
	f.StringVar(p, name, env, def, usage)
	return p
}

// StringVar is String into p.
func (f Flags) StringVar(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok {
		def = v
	}
	f.FlagSet.StringVar(p, name, def, usage+" (env "+env+")")
}

// Int is an int flag with an environment fallback.
func (f Flags) Int(name, env string, def int, usage string) *int {
	p := new(int)
	f.IntVar(p, name, env, def, usage)
	return p
}

// IntVar is Int into p.
func (f Flags) IntVar(p *int, name, env string, def int, usage string) {
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
		def = v
	}
	f.FlagSet.IntVar(p, name, def, usage+" (env "+env+")")
}

// DurationVar is a positive Go duration flag ("90s", "10m", "24h") with
// an environment fallback. A malformed or non-positive environment value
// stops the program at start, as such a flag does, rather than being
// ignored.
func (f Flags) DurationVar(p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	f.FlagSet.Var(positiveDuration{p}, name, usage+" (env "+env+")")
	if v, ok := os.LookupEnv(env); ok {
		if err := f.FlagSet.Set(name, v); err != nil {
			fmt.Fprintf(f.Output(), "%s: invalid %s=%q: %v\n", f.Name(), env, v, err)
			os.Exit(2)
		}
	}
}

type positiveDuration struct{ p *time.Duration }

func (d positiveDuration) String() string {
	if d.p == nil {
		return ""
	}
	return d.p.String()
}

func (d positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil || v <= 0 {
		return errors.New("want a positive Go duration such as 10m or 24h")
	}
	*d.p = v
	return nil
}

// Bool is a boolean flag with an environment fallback (1, true, 0,
// false); a malformed environment value stops the program.
func (f Flags) Bool(name, env string, def bool, usage string) *bool {
	p := f.FlagSet.Bool(name, def, usage+" (env "+env+")")
	if v, ok := os.LookupEnv(env); ok {
		if err := f.FlagSet.Set(name, v); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %s=%q: %v\n", f.Name(), env, v, err)
			os.Exit(2)
		}
	}
	return p
}

// Logger is the process logger: text on stderr at the level named by
// INVENTORY_LOG_LEVEL (debug, info, warn, error; default info).
func Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(os.Getenv("INVENTORY_LOG_LEVEL")))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
