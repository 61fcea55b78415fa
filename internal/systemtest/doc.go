// Package systemtest gives tests the whole system in one process, on a
// real embedded server: the stack of internal/stacktest, the wire formats
// (JSON, or Avro with schemas in the registry bucket as the programs
// write them), the command service, the cart reservation service (over
// the system's view, as the programs build it), calculator instances and
// the HTTP API. The api, calculator and loadtest tests share it instead
// of each wiring its own copy. Codecs and calculators are built in one
// place each (openWire, StartCalculator), so a change of their
// constructors is one edit here.
package systemtest
