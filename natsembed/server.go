package natsembed

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config describes an embedded server.
type Config struct {
	// Listen is the client address, host:port; port -1 picks a free one.
	Listen string
	// StoreDir holds JetStream's files; data survives restarts.
	StoreDir string
	// ServerName names the server in logs and cluster views.
	ServerName string
	// Sync is when JetStream's writes reach the disk; the zero value is
	// the server's default, a background sync every two minutes.
	Sync Sync
	// Domain is the JetStream domain, for deployments that reach this
	// server's JetStream as $JS.<domain>.API (leaf nodes, hubs); empty is
	// none.
	Domain string
}

// Sync says when JetStream flushes its files to stable storage (fsync).
// Between two syncs an acknowledged message is in the operating system's
// page cache: it survives the process dying, not the machine losing power.
// It is a flag.Value: "always" or a duration such as "2m".
type Sync struct {
	// Always syncs every write before it is acknowledged.
	Always bool
	// Interval is the period of the background sync when not Always;
	// 0 is the server's default (2 minutes).
	Interval time.Duration
}

// String is the form Set reads.
func (s *Sync) String() string {
	switch {
	case s == nil || (!s.Always && s.Interval == 0):
		return "2m"
	case s.Always:
		return "always"
	default:
		return s.Interval.String()
	}
}

// Set reads "always" or a positive duration, as nats-server's own
// jetstream.sync_interval does.
func (s *Sync) Set(v string) error {
	if v == "always" {
		*s = Sync{Always: true}
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("natsembed: sync %q: want \"always\" or a positive duration", v)
	}
	*s = Sync{Interval: d}
	return nil
}

// Start runs a JetStream-enabled server and waits until it accepts clients.
func Start(c Config) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("natsembed: listen %q: %w", c.Listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("natsembed: listen port %q: %w", portStr, err)
	}
	if c.StoreDir == "" {
		return nil, errors.New("natsembed: store dir is required")
	}
	opts := &server.Options{
		ServerName: c.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   c.StoreDir,
		NoSigs:     true,
		// Generous payloads are not needed: events are small.
		MaxPayload:      1 << 20,
		SyncAlways:      c.Sync.Always,
		SyncInterval:    c.Sync.Interval,
		JetStreamDomain: c.Domain,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsembed: new server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("natsembed: server not ready within 10s")
	}
	return s, nil
}
