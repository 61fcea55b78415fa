// Package app wires the components that the programs in services/ run;
// it holds no rules of its own. Program and Run are the one Main every
// NATS program goes through: settings from flags and environment
// (Flags, CommonFlags), the logger, a context that ends on a signal, the
// NATS connection, then the program's setup, its HTTP listeners and its
// tasks until the context ends (MainArgs is the same for subcommands and
// the load tool). The helpers open what a program combines (OpenPipeline,
// OpenWire, OpenRegistry, RunPipeline, RunProjection, RegisterCommands)
// with the shared Topology, so each main.go only names its settings and
// its parts. Admin is `inventory admin plan|apply`, which changes the
// shared streams and buckets on purpose (streams.Apply, kv.Apply), from
// the same settings the programs read. Security (security.go) is how
// every HTTP listener is protected: credentials, TLS, rate limits, and
// the rule that without credentials a program listens on loopback only
// (unless --insecure); Session.Serve applies it to each listener.
package app
