// Package ctl is the operator CLI's logic (services/inventoryctl): the
// commands operators otherwise run by hand with curl and the nats CLI.
// Commands and queries go through the HTTP API, like any client's, so
// that they are validated and keyed the same way; watch and the dead
// letter commands read JetStream directly, since no API serves them.
package ctl
