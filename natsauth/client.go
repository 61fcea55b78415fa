package natsauth

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
)

// ClientConfig is how a program authenticates to NATS and checks the
// server: at most one kind of credential, and TLS for a server that
// presents a certificate. The zero value is an anonymous plain
// connection, as to the embedded server on loopback.
type ClientConfig struct {
	// Creds is a .creds file (a user JWT and its nkey seed), for servers
	// in operator mode (decentralized auth, your own operator).
	Creds string
	// NKeySeed is a file holding a user's nkey seed ("SU..."), for users
	// listed by public key in the server's configuration (what `inventory
	// admin nats-users` generates).
	NKeySeed string
	// User and Password authenticate as a user of the server's
	// authorization block.
	User, Password string
	// CAFile holds the certificates that sign the server's: with it, the
	// client requires TLS and verifies the server's certificate and name.
	CAFile string
	// CertFile and KeyFile are a client certificate, for servers that
	// verify their clients (tls { verify: true }).
	CertFile, KeyFile string
	// InboxPrefix is where replies come back; a role may subscribe only
	// to its own (InboxPrefix). Empty is nats.go's default, _INBOX.
	InboxPrefix string
}

// ErrCredentials is a setting that names credentials inconsistently.
var ErrCredentials = errors.New("natsauth: credentials")

// Validate says whether the settings make one connection.
func (c ClientConfig) Validate() error {
	var errs []error
	n := 0
	for _, set := range []bool{c.Creds != "", c.NKeySeed != "", c.User != ""} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs = append(errs, fmt.Errorf("%w: give one of NATS_CREDS, NATS_NKEY_SEED and NATS_USER, not several", ErrCredentials))
	}
	if c.Password != "" && c.User == "" {
		errs = append(errs, fmt.Errorf("%w: NATS_PASSWORD without NATS_USER", ErrCredentials))
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs = append(errs, fmt.Errorf("%w: a client certificate needs both NATS_TLS_CERT and NATS_TLS_KEY", ErrCredentials))
	}
	return errors.Join(errs...)
}

// Authenticated says whether the connection carries credentials.
func (c ClientConfig) Authenticated() bool {
	return c.Creds != "" || c.NKeySeed != "" || c.User != ""
}

// Options are the connection options for c; the files are read when the
// connection is made (and, for creds and seeds, on every reconnect, so a
// rotated file takes effect without a restart).
func (c ClientConfig) Options() ([]nats.Option, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var opts []nats.Option
	switch {
	case c.Creds != "":
		opts = append(opts, nats.UserCredentials(c.Creds))
	case c.NKeySeed != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeySeed)
		if err != nil {
			return nil, fmt.Errorf("natsauth: nkey seed %s: %w", c.NKeySeed, err)
		}
		opts = append(opts, o)
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	if c.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.CAFile))
	}
	if c.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.CertFile, c.KeyFile))
	}
	if c.InboxPrefix != "" && c.InboxPrefix != InboxPrefix(Admin) {
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return opts, nil
}
