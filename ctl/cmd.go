package ctl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sellable/inventory/app"
	"github.com/sellable/inventory/natsauth"
)

// requestTimeout bounds each command but watch: an operator's command
// should say that a server is not there rather than wait for it.
const requestTimeout = 30 * time.Second

type options struct {
	url      string
	natsURL  string
	natsAuth natsauth.ClientConfig
	token    string
	caFile   string
}

// NewRoot is the inventoryctl command, writing to out and logging
// connection trouble to log.
func NewRoot(out io.Writer, log *slog.Logger) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:   "inventoryctl",
		Short: "Operate the sellable inventory service",
		Long: `inventoryctl does by hand what operators would otherwise do with curl and
the nats CLI: commands and queries through the HTTP API (--url), sellable
changes and dead letters through NATS (--nats-url), and the admin plan/apply
of streams and buckets.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(out)
	root.PersistentFlags().StringVar(&o.url, "url", "http://127.0.0.1:9091", "HTTP base URL of the inventory API (adjust, reserve, get, partitions)")
	root.PersistentFlags().StringVar(&o.natsURL, "nats-url", "nats://127.0.0.1:4222", "NATS server(s) (watch, dlq)")
	// The NATS credentials and TLS, defaulting to the environment the
	// programs read (README, Running it securely).
	pf := root.PersistentFlags()
	pf.StringVar(&o.natsAuth.Creds, "nats-creds", os.Getenv("NATS_CREDS"), "NATS .creds file (env NATS_CREDS)")
	pf.StringVar(&o.natsAuth.NKeySeed, "nats-nkey-seed", os.Getenv("NATS_NKEY_SEED"), "file holding an nkey seed, e.g. admin.nk (env NATS_NKEY_SEED)")
	pf.StringVar(&o.natsAuth.User, "nats-user", os.Getenv("NATS_USER"), "NATS user, with env NATS_PASSWORD (env NATS_USER)")
	o.natsAuth.Password = os.Getenv("NATS_PASSWORD")
	pf.StringVar(&o.natsAuth.CAFile, "nats-ca", os.Getenv("NATS_CA"), "CA that signs the NATS server's certificate (env NATS_CA)")
	pf.StringVar(&o.natsAuth.CertFile, "nats-tls-cert", os.Getenv("NATS_TLS_CERT"), "client certificate (env NATS_TLS_CERT)")
	pf.StringVar(&o.natsAuth.KeyFile, "nats-tls-key", os.Getenv("NATS_TLS_KEY"), "client certificate's key (env NATS_TLS_KEY)")
	root.PersistentFlags().StringVar(&o.token, "token", os.Getenv("INVENTORY_TOKEN"), "bearer token (API key or JWT) for the HTTP API (env INVENTORY_TOKEN)")
	root.PersistentFlags().StringVar(&o.caFile, "ca-file", os.Getenv("INVENTORY_CA_FILE"), "PEM CA certificate(s) to trust for an https --url (env INVENTORY_CA_FILE)")
	root.AddCommand(commandCmd(o, "adjust", "adjustment", "Record an adjustment of COUNT for a location's SKU"),
		commandCmd(o, "reserve", "reservation", "Record a reservation of COUNT for a location's SKU"),
		getCmd(o), partitionsCmd(o), watchCmd(o, log), dlqCmd(o), adminCmd(log))
	return root
}

func (o *options) client() (Client, error) {
	hc := &http.Client{Timeout: requestTimeout}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return Client{}, fmt.Errorf("--ca-file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return Client{}, fmt.Errorf("--ca-file %s: no PEM certificate", o.caFile)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	return Client{BaseURL: o.url, HTTP: hc, Token: o.token}, nil
}

// connect dials NATS once, without the services' endless retry.
func (o *options) connect() (*nats.Conn, jetstream.JetStream, error) {
	opts, err := o.natsAuth.Options()
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(o.natsURL, append(opts, nats.Name("inventoryctl"))...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", o.natsURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func timeout(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), requestTimeout)
}

func commandCmd(o *options, use, kind, short string) *cobra.Command {
	var key string
	c := &cobra.Command{
		Use:   use + " LOCATION SKU COUNT",
		Short: short,
		Long: short + `. With --key the command is stored at most once however often it is
run within the service's idempotency window.`,
		Example: "  inventoryctl " + use + " STL 123123 100 --key restock-42",
		Args:    cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := strconv.ParseInt(args[2], 10, 64)
			if err != nil {
				return fmt.Errorf("COUNT %q: not an integer", args[2])
			}
			ctx, cancel := timeout(cmd)
			defer cancel()
			c, err := o.client()
			if err != nil {
				return err
			}
			r, err := c.Command(ctx, kind, args[0], args[1], n, key)
			if err != nil {
				return err
			}
			dup := ""
			if r.Duplicate {
				dup = " (duplicate: stored before, not again)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s %d: stored in %s seq %d partition %d%s\n",
				kind, r.LocationID, r.SKU, r.Count, r.Stream, r.Seq, r.Partition, dup)
			return nil
		},
	}
	c.Flags().StringVar(&key, "key", "", "Idempotency-Key of the command")
	return c
}

func getCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:     "get LOCATION SKU",
		Short:   "Show the sellable count of a location's SKU",
		Example: "  inventoryctl get STL 123123",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := timeout(cmd)
			defer cancel()
			c, err := o.client()
			if err != nil {
				return err
			}
			p, err := c.Get(ctx, args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "location=%q sku=%q sellable=%d adjusted=%d reserved=%d seq=%d updated=%s\n",
				p.LocationID, p.SKU, p.Count, p.OnHand, p.Reserved, p.Seq, p.UpdatedAt)
			return nil
		},
	}
}

func partitionsCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "partitions",
		Short: "Show the partitions a calculator instance owns and their lag",
		Long: `Show the partitions the calculator instance behind --url owns, with what
each applied and dead-lettered, its last sequence, lag and whether it is
stalled (GET /calculator/status). Ask each instance for the whole picture.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := timeout(cmd)
			defer cancel()
			c, err := o.client()
			if err != nil {
				return err
			}
			s, err := c.Status(ctx)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "instance %s owns %d of %d partitions\n", s.Instance, len(s.Owned), s.Partitions)
			fmt.Fprintln(out, "PARTITION\tAPPLIED\tDEAD\tLAST SEQ\tLAG\tRESTARTS\tSTALLED")
			ps := make([]int, 0, len(s.Stats))
			for p := range s.Stats {
				ps = append(ps, p)
			}
			sort.Ints(ps)
			for _, p := range ps {
				st := s.Stats[p]
				stalled := "no"
				if st.Stalled {
					stalled = "yes: " + st.StalledReason
				}
				fmt.Fprintf(out, "%d\t%d\t%d\t%d\t%d\t%d\t%s\n", p, st.Applied, st.DeadLettered, st.LastSeq, st.Lag, st.Restarts, stalled)
			}
			return nil
		},
	}
}

func watchCmd(o *options, log *slog.Logger) *cobra.Command {
	var loc, sku string
	c := &cobra.Command{
		Use:   "watch",
		Short: "Print sellable changes as they happen, until interrupted",
		Long: `Print one line per sellable change (the view bucket's value, which the
bucket republishes on inventory.sellable.<loc>.<sku>) as the calculators
write them, until Ctrl-C.`,
		Example: "  inventoryctl watch --location STL",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			nc, _, err := o.connect()
			if err != nil {
				return err
			}
			defer nc.Close()
			return Watch(ctx, nc, WatchSubject(loc, sku), cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&loc, "location", "", "only this location")
	c.Flags().StringVar(&sku, "sku", "", "only this SKU")
	return c
}

func dlqCmd(o *options) *cobra.Command {
	c := &cobra.Command{
		Use:   "dlq",
		Short: "List, show and replay dead letters (stream INVENTORY_DLQ)",
	}
	var from uint64
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List dead letters: sequence, time, original subject, reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withJS(cmd, o, func(ctx context.Context, js jetstream.JetStream) error {
				ds, err := ListDeadLetters(ctx, js, from, limit)
				if err != nil {
					return err
				}
				for _, d := range ds {
					fmt.Fprintln(cmd.OutOrStdout(), d.ListLine())
				}
				return nil
			})
		},
	}
	list.Flags().Uint64Var(&from, "from", 0, "first sequence to list (0: the oldest kept)")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	show := &cobra.Command{
		Use:   "show SEQ",
		Short: "Show a dead letter's headers and body",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := parseSeq(args[0])
			if err != nil {
				return err
			}
			return withJS(cmd, o, func(ctx context.Context, js jetstream.JetStream) error {
				d, err := GetDeadLetter(ctx, js, seq)
				if err != nil {
					return err
				}
				d.Print(cmd.OutOrStdout())
				return nil
			})
		},
	}
	replay := &cobra.Command{
		Use:   "replay SEQ",
		Short: "Publish a dead letter again to its original subject, once",
		Long: `Publish the dead letter's body and application headers again to the subject
its original was published to, after the cause is fixed. Its Nats-Msg-Id is
dlq-replay-SEQ, so replaying the same dead letter again within the event
stream's duplicate window stores nothing. A dead letter that was truncated to
fit is not the original message and is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := parseSeq(args[0])
			if err != nil {
				return err
			}
			return withJS(cmd, o, func(ctx context.Context, js jetstream.JetStream) error {
				ack, err := Replay(ctx, js, seq)
				if err != nil {
					return err
				}
				if ack.Duplicate {
					fmt.Fprintf(cmd.OutOrStdout(), "dead letter %d was already replayed (%s seq %d); nothing stored\n", seq, ack.Stream, ack.Sequence)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "dead letter %d replayed: stored in %s seq %d\n", seq, ack.Stream, ack.Sequence)
				return nil
			})
		},
	}
	c.AddCommand(list, show, replay)
	return c
}

func parseSeq(s string) (uint64, error) {
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("SEQ %q: not a stream sequence", s)
	}
	return seq, nil
}

func withJS(cmd *cobra.Command, o *options, f func(context.Context, jetstream.JetStream) error) error {
	nc, js, err := o.connect()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := timeout(cmd)
	defer cancel()
	return f(ctx, js)
}

// adminCmd hands its arguments to app.Admin, which parses the shared
// settings (flags and environment) exactly as `inventory admin` does.
func adminCmd(log *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:                "admin plan|apply [flags]",
		Short:              "Show or apply how streams and buckets differ from the settings",
		Long:               app.AdminUsage + "\n\nThe same as `inventory admin`; run `inventoryctl admin plan -h` for its flags.",
		ValidArgs:          []string{"plan", "apply"},
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := app.Admin(cmd.Context(), args, cmd.OutOrStdout(), log)
			if errors.Is(err, flag.ErrHelp) {
				return nil // the flag set printed its help already
			}
			return err
		},
	}
}
