package app

import (
	"flag"
	"log/slog"
	"os"
	"strconv"
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

// Logger is the process logger: text on stderr at the level named by
// INVENTORY_LOG_LEVEL (debug, info, warn, error; default info).
func Logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(os.Getenv("INVENTORY_LOG_LEVEL")))
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
