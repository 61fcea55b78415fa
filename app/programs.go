package app

import (
	"log/slog"
	"path/filepath"

	"github.com/sellable/inventory/natsembed"
	"github.com/sellable/inventory/projection"
)

// The programs in services/ register their settings here rather than in
// their mains, so that a test can list every flag and environment
// variable they accept and compare them with the README's configuration
// table (TestConfigurationTableMatchesFlags). A main only calls one of
// these and Run.

// MutatorProgram is services/mutator's settings: the shared ones.
func MutatorProgram() Program { return NewProgram("mutator", "127.0.0.1:9091") }

// SchemaRegistryProgram is services/schema-registry's settings.
func SchemaRegistryProgram() Program { return NewProgram("schema-registry", "127.0.0.1:8081") }

// CalculatorProgram is services/calculator's settings.
func CalculatorProgram() (Program, *CalculatorSettings) {
	p := NewProgram("calculator", "127.0.0.1:9094")
	return p, CalculatorFlags(p.Flags)
}

// SellableProgram is services/sellable-service's settings; the function
// builds the projection's config once the flags are parsed.
func SellableProgram() (Program, func(w Wire, log *slog.Logger) projection.Config) {
	p := NewProgram("sellable-service", "127.0.0.1:9093")
	return p, ProjectionFlags(p.Flags, "127.0.0.1:9042")
}

// AllInOne is services/inventory's settings: the shared ones with an
// embedded server by default, the calculator's, and the Scylla
// projection's with its own listener.
type AllInOne struct {
	Program
	Calculator *CalculatorSettings
	// SellableAddr is the Scylla-backed query API's address, served when
	// the projection has hosts.
	SellableAddr *string
	PprofAddr    *string
	Projection   func(w Wire, log *slog.Logger) projection.Config
	// Embedded is the embedded server's config, once the flags are parsed.
	Embedded func() natsembed.Config
	// MemoryLimit is the process's soft memory limit; the main applies
	// it (MemoryLimit.Apply) once the flags are parsed.
	MemoryLimit *MemoryLimit
}

// AllInOneProgram registers services/inventory's settings. Its Embed is
// left to the main, which starts the server.
func AllInOneProgram() AllInOne {
	f := NewFlags("inventory")
	a := AllInOne{Program: Program{Flags: f, Common: CommonFlags(f, "127.0.0.1:9091", "", "external NATS server(s); when set, none is embedded")}}
	a.Embedded = EmbedFlags(f)
	a.Calculator = CalculatorFlags(f)
	a.SellableAddr = f.String("sellable-addr", "INVENTORY_SELLABLE_ADDR", "127.0.0.1:9093", "HTTP address of the Scylla-backed query API, when SCYLLA_HOSTS is set")
	a.Projection = ProjectionFlags(f, "")
	a.PprofAddr = f.String("pprof-addr", "INVENTORY_PPROF_ADDR", "", "serve Go's profiler here (off when empty)")
	a.MemoryLimit = MemoryLimitFlag(f, DefaultMemoryLimit,
		"soft memory limit of the process (Go's GOMEMLIMIT, which applies when this is not given): the collector works harder near it instead of letting the heap double; 0: none")
	return a
}

// EmbedFlags registers the embedded server's settings; call the result
// once f is parsed.
func EmbedFlags(f Flags) func() natsembed.Config {
	dataDir := f.String("data-dir", "INVENTORY_DATA_DIR", "./data", "directory of the embedded server's JetStream files")
	listen := f.String("nats-listen", "INVENTORY_NATS_LISTEN", "127.0.0.1:4222", "client address of the embedded NATS server")
	sync := new(natsembed.Sync)
	f.Var(sync, "sync", "INVENTORY_SYNC", `when the embedded server syncs JetStream to disk: "always" (before each acknowledgement) or an interval`)
	users := f.String("nats-users", "INVENTORY_NATS_USERS", "", "the embedded server's users and permissions: a nats-server config file (inventory admin nats-users writes one); without it, only loopback")
	insecure := new(bool)
	f.BoolVar(insecure, "nats-insecure", "INVENTORY_NATS_INSECURE", false, "let the embedded server listen beyond loopback without users: anyone who reaches it may do anything")
	cert := f.String("nats-server-cert", "INVENTORY_NATS_SERVER_CERT", "", "the embedded server's TLS certificate (PEM); with it, clients must use TLS")
	key := f.String("nats-server-key", "INVENTORY_NATS_SERVER_KEY", "", "the embedded server certificate's key (PEM)")
	return func() natsembed.Config {
		return natsembed.Config{Listen: *listen, StoreDir: filepath.Join(*dataDir, "jetstream"), ServerName: "inventory", Sync: *sync,
			Users: *users, Insecure: *insecure, TLSCert: *cert, TLSKey: *key}
	}
}
