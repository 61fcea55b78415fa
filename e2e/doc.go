// Package e2e holds end-to-end tests: they build the real programs (and a
// nats-server from its module), start them as processes on 127.0.0.1 and
// drive them through HTTP and NATS only, as an operator or client would.
package e2e
