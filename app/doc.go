// Package app assembles the components that the programs in services/
// run: the NATS connection, the streams and buckets, the HTTP server and
// the lifecycle that ties them to a context. Each main.go only reads its
// configuration and calls into here. Admin is the `inventory admin
// plan|apply` command that changes the shared streams and buckets on
// purpose, from the same settings the programs read.
package app
