package natsauth

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nats-io/nkeys"

	"github.com/sellable/inventory/streams"
)

// UsersFile is the name of the server configuration include Generate
// writes; SeedFile(r) is the name of role r's seed beside it.
const UsersFile = "nats-users.conf"

// SeedFile is the file name of role r's nkey seed.
func SeedFile(r Role) string { return string(r) + ".nk" }

// Account is the NATS account of the inventory's streams and buckets and
// of every role but the publisher; PublisherAccount is the publisher's
// own, which reaches the inventory's only through the intake import.
const (
	Account          = "INVENTORY"
	PublisherAccount = "PUBLISHER"
)

// AccountOf is the account of role r's user.
func AccountOf(r Role) string {
	if r == Publisher {
		return PublisherAccount
	}
	return Account
}

// Generate makes one nkey user per role for a deployment of the given
// partitions: it writes UsersFile into dir, the accounts block for
// nats-server (`include nats-users.conf`, or the embedded server's
// --nats-users), and each role's seed into SeedFile(role), readable by
// its owner only. It refuses to overwrite an existing UsersFile, so that a
// second run does not lock every running program out. It answers the
// public key of each role.
func Generate(dir string, partitions int) (map[Role]string, error) {
	conf := filepath.Join(dir, UsersFile)
	if _, err := os.Stat(conf); err == nil {
		return nil, fmt.Errorf("natsauth: %s exists; remove it (and restart the servers and programs with the new files) to make new users", conf)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	keys := make(map[Role]string, len(Roles))
	users := map[string]*bytes.Buffer{Account: {}, PublisherAccount: {}}
	for _, r := range Roles {
		kp, err := nkeys.CreateUser()
		if err != nil {
			return nil, fmt.Errorf("natsauth: nkey: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("natsauth: nkey: %w", err)
		}
		seed, err := kp.Seed()
		if err != nil {
			return nil, fmt.Errorf("natsauth: nkey: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, SeedFile(r)), append(seed, '\n'), 0o600); err != nil {
			return nil, fmt.Errorf("natsauth: %w", err)
		}
		p, err := Of(r, partitions)
		if err != nil {
			return nil, err
		}
		keys[r] = pub
		b := users[AccountOf(r)]
		fmt.Fprintf(b, "        # %s\n        {nkey: %q", r, pub)
		if r != Admin {
			deny, responses := "", ""
			if len(p.PublishDeny) > 0 {
				deny = ", deny: " + list(p.PublishDeny)
			}
			if p.Responses {
				responses = "\n          allow_responses: true"
			}
			fmt.Fprintf(b, ", permissions: {\n          publish: {allow: %s%s}\n          subscribe: {allow: %s}%s\n        }",
				list(p.Publish), deny, list(p.Subscribe), responses)
		}
		b.WriteString("}\n")
	}
	var b bytes.Buffer
	b.WriteString("# NATS users of the inventory, one per role: written by `inventory admin nats-users`.\n")
	fmt.Fprintf(&b, "# For %d partitions: the view is one bucket per partition, each named in the permissions.\n", partitions)
	b.WriteString("# Each role's seed is in <role>.nk beside this file; give a program only its own.\n")
	fmt.Fprintf(&b, "# The publisher lives in the account %s: what it publishes reaches the account %s\n", PublisherAccount, Account)
	b.WriteString("# through a shared service import, which names its user, and the mutators store it\n")
	b.WriteString("# with that user as the source (package intake).\n")
	b.WriteString("accounts {\n")
	fmt.Fprintf(&b, "  %s: {\n    jetstream: enabled\n    users: [\n%s    ]\n    exports: [\n", Account, users[Account])
	for _, k := range streams.IntakeKinds {
		fmt.Fprintf(&b, "      {service: %q}\n", streams.IntakeSubjectFilter(k))
	}
	fmt.Fprintf(&b, "    ]\n  }\n  %s: {\n    users: [\n%s    ]\n    imports: [\n", PublisherAccount, users[PublisherAccount])
	for _, k := range streams.IntakeKinds {
		fmt.Fprintf(&b, "      {service: {account: %s, subject: %q}, to: %q, share: true}\n",
			Account, streams.IntakeSubjectFilter(k), streams.EventSubjectFilter(k))
	}
	b.WriteString("    ]\n  }\n}\n")
	if err := os.WriteFile(conf, b.Bytes(), 0o600); err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	return keys, nil
}

// list is subjects as a list of the server's configuration language.
func list(subjects []string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
