// Package natsembed runs a nats-server with JetStream inside the process:
// the all-in-one program's default, and the server every package test
// talks to. It is the real server, not a fake. Config.Sync decides what
// an acknowledgement survives (see README, "What an acknowledgement means").
package natsembed
