package natstest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sellable/inventory/natsembed"
)

// Server is a running embedded server with a client connection.
type Server struct {
	*server.Server
	NC *nats.Conn
	JS jetstream.JetStream
}

// Start runs a fresh JetStream server in a temporary directory for the
// duration of t, and connects to it.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartIn(t, t.TempDir())
}

// StartIn is Start on a given store directory, to restart a server on the
// same data.
func StartIn(t testing.TB, dir string) *Server {
	t.Helper()
	s, err := natsembed.Start(natsembed.Config{Listen: "127.0.0.1:-1", StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, js := Connect(t, s.ClientURL())
	return &Server{Server: s, NC: nc, JS: js}
}

// Connect opens a connection to url for the duration of t: a client of
// its own, as a separate process would have.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
