// Package natstest gives package tests a real, embedded JetStream server.
package natstest
