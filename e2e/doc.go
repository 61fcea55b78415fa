// Package e2e holds end-to-end tests: they build the real programs (and a
// nats-server from its module), start them as processes on 127.0.0.1 and
// drive them through HTTP and NATS only, as an operator or client would.
// HTTP goes through the client generated from api/openapi.yaml (package
// client), so the tests speak to the programs as the document says;
// readme_test.go and readme_commands_test.go run the README's commands
// literally, with curl, Task and the nats CLI.
package e2e
