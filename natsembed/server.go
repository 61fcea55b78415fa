package natsembed

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
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
	// Users is a server configuration file with an authorization block
	// (natsauth.UsersFile): with it, only those users connect, each with
	// its permissions. Without it anyone who reaches Listen may do
	// anything, so Start refuses a Listen that is not loopback unless
	// Insecure says that is meant.
	Users string
	// Insecure allows a non-loopback Listen without Users.
	Insecure bool
	// Internal is a user added to Users for the process's own
	// connection (see InternalUser); nil is none.
	Internal *server.User
	// TLSCert and TLSKey make the server require TLS with this
	// certificate; clients verify it against their CA file.
	TLSCert, TLSKey string
}

// ErrInsecureListen is a listen address other hosts can reach, on a
// server without users.
var ErrInsecureListen = errors.New("natsembed: refusing to listen beyond loopback without users")

// Loopback says whether host (of a listen address) is reachable only from
// this machine: a loopback IP or "localhost". "" and 0.0.0.0 are every
// interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// InternalUser is a user for the process's own in-process connection to
// an embedded server that has Users: a random password, allowed only over
// the in-process pipe, so nothing on the network can use it. It answers
// the user for Config.Internal and the option that connects as it.
func InternalUser() (*server.User, nats.Option, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nil, fmt.Errorf("natsembed: internal user: %w", err)
	}
	pass := base64.RawURLEncoding.EncodeToString(b[:])
	u := &server.User{Username: "inventory-internal", Password: pass,
		AllowedConnectionTypes: map[string]struct{}{jwt.ConnectionTypeInProcess: {}}}
	return u, nats.UserInfo(u.Username, pass), nil
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
	if c.Users == "" && !c.Insecure && !Loopback(host) {
		return nil, fmt.Errorf("%w: %s", ErrInsecureListen, c.Listen)
	}
	if c.Users != "" {
		a, err := LoadUsers(c.Users)
		if err != nil {
			return nil, fmt.Errorf("natsembed: %w", err)
		}
		opts.Nkeys, opts.Users, opts.Accounts = a.Nkeys, a.Users, a.Accounts
		if c.Internal != nil {
			// The process does the admin's work: it joins the admin's
			// account, where the streams are.
			c.Internal.Account = a.adminAccount()
			opts.Users = append(opts.Users, c.Internal)
		}
	}
	if c.TLSCert != "" || c.TLSKey != "" {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: c.TLSCert, KeyFile: c.TLSKey})
		if err != nil {
			return nil, fmt.Errorf("natsembed: tls: %w", err)
		}
		opts.TLSConfig, opts.TLS = tc, true
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

// ErrNoUsers is a users file that lists nobody.
var ErrNoUsers = errors.New("natsembed: no users")

// Users is what a server configuration file says about who connects: its
// users and, when it has an accounts block, the accounts they belong to.
type Users struct {
	Nkeys    []*server.NkeyUser
	Users    []*server.User
	Accounts []*server.Account
}

// adminAccount is the account of the first user without permissions (the
// admin of natsauth.Generate's file), nil (the default account) when
// there is none or the file has no accounts.
func (u Users) adminAccount() *server.Account {
	for _, n := range u.Nkeys {
		if n.Permissions == nil {
			return n.Account
		}
	}
	for _, n := range u.Users {
		if n.Permissions == nil {
			return n.Account
		}
	}
	return nil
}

// LoadUsers reads a server configuration file with an accounts or an
// authorization block (natsauth.UsersFile, or one written by hand with
// users and passwords) into the users an embedded server takes.
func LoadUsers(path string) (Users, error) {
	o, err := server.ProcessConfigFile(path)
	if err != nil {
		return Users{}, fmt.Errorf("users %s: %w", path, err)
	}
	if len(o.Nkeys) == 0 && len(o.Users) == 0 {
		return Users{}, fmt.Errorf("%w in %s", ErrNoUsers, path)
	}
	return Users{Nkeys: o.Nkeys, Users: o.Users, Accounts: o.Accounts}, nil
}
