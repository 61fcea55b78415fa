// Package natsembed runs a nats-server with JetStream inside the process:
// the all-in-one program's default, and the server every package test
// talks to. It is the real server, not a fake. Config.Sync decides what
// an acknowledgement survives (see README, "What an acknowledgement means").
//
// Without users (Config.Users) anyone who reaches the server may do
// anything, so Start refuses a listen address beyond loopback unless
// Config.Insecure says that is meant; with users, the process's own
// connection is an internal user that only the in-process pipe accepts
// (InternalUser). Config.TLSCert makes it serve TLS.
package natsembed
