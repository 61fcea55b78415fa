package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sellable/inventory/internal/poll"
)

// readmeBlock is one ```sh block of the README: the section it is in and
// its lines (comments and answers included, blank lines dropped).
type readmeBlock struct {
	section string
	lines   []string
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks  []readmeBlock
		section string
		in      bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !in && strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
		case !in && line == "```sh":
			in = true
			blocks = append(blocks, readmeBlock{section: section})
		case in && strings.HasPrefix(line, "```"):
			in = false
		case in && strings.TrimSpace(line) != "":
			blocks[len(blocks)-1].lines = append(blocks[len(blocks)-1].lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// readmeNotRun are the README's commands that no test runs here, each
// with the reason. Every other command line of a ```sh block is run
// literally by TestReadmeCommandsLiterally (or, for the walkthrough, also
// by TestReadmeWalkthrough on free ports). TestReadmeCommandsAreAccounted
// fails when a README command is in neither list, so a new command comes
// with its test or its reason.
var readmeNotRun = map[string]string{
	"go tool task test":         "runs every test, this one included (.ci/run runs it)",
	"go tool task db:stop":      "would stop the Cassandra that every test on this machine shares; `go tool task test` leaves it running on purpose",
	"docker compose up --build": "no Docker engine here; TestReadmeComposeTopology checks docker-compose.yml for the services and ports the README names",
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123","count":"100"}' localhost:9091/inventory/adjustment`: "the compose topology's mutator (no Docker engine here); the same command against the all-in-one runs in the walkthrough",
	"curl localhost:9094/inventory/locations/STL/skus/123123":                                                                                     "the compose topology's calculator on :9094 (no Docker engine here)",
	"inventoryctl dlq show 7":   "an example sequence: the test shows and replays the dead letter it made (sequence 1) with the same commands",
	"inventoryctl dlq replay 7": "an example sequence: see dlq show 7",
	"go run ./services/inventory admin nats-users --partitions 8 ./auth":                                          readmeSecureNATS,
	"go tool task run -- --nats-users ./auth/nats-users.conf --nats-listen 0.0.0.0:4222 \\":                       readmeSecureNATS,
	"--nats-server-cert server.pem --nats-server-key server-key.pem":                                              readmeSecureNATS,
	"nats --server nats://host:4222 --nkey ./auth/publisher.nk --tlsca ca.pem --inbox-prefix _INBOX.publisher \\": readmeSecureNATS,
	"pub -J inventory.adjustments.STL.123123 '{\"count\":100}'":                                                   readmeSecureNATS,
	"key=$(openssl rand -hex 32)": readmeSecureHTTP,
	"echo \"wms-eu inventory:adjust,inventory:read $(printf %s \"$key\" | sha256sum | cut -d' ' -f1)\" >> api-keys": readmeSecureHTTP,
	"go run ./services/inventory --http-addr 0.0.0.0:9091 --api-keys-file api-keys":                                 readmeSecureHTTP,
	"curl -H \"Authorization: Bearer $key\" -H \"Content-Type: application/json\" -X POST \\":                       readmeSecureHTTP,
	"-d '{\"locationId\":\"STL\",\"sku\":\"123123\",\"count\":100}' http://localhost:9091/inventory/adjustment":     readmeSecureHTTP,
	"mkdir -p deploy/secrets": readmeSecureCompose,
	"key=$(openssl rand -hex 32); echo \"$key\" > deploy/secrets/admin.key":                                                          readmeSecureCompose,
	"echo \"ops admin $(printf %s \"$key\" | sha256sum | cut -d' ' -f1)\" > deploy/secrets/api-keys":                                 readmeSecureCompose,
	"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \\":                          readmeSecureCompose,
	"-addext subjectAltName=DNS:localhost,DNS:mutator,DNS:calculator-1,DNS:calculator-2,DNS:sellable-service,DNS:schema-registry \\": readmeSecureCompose,
	"-keyout deploy/secrets/tls.key -out deploy/secrets/tls.crt":                                                                     readmeSecureCompose,
	"chmod a+r deploy/secrets/*": readmeSecureCompose,
	"docker compose -f docker-compose.yml -f deploy/compose.secure.yml up --build":                                                      readmeSecureCompose,
	"curl --cacert deploy/secrets/tls.crt -H \"Authorization: Bearer $key\" https://localhost:9094/inventory/locations/STL/skus/123123": readmeSecureCompose,
	"go run ./services/inventory admin apply --nats-url nats://127.0.0.1:4222 --replicas 3":                                             "three replicas need a three-node cluster; the all-in-one's single server refuses them (plan runs and shows the difference)",
}

// The secured setups listen beyond loopback, on the README's fixed ports,
// or need Docker; the same steps run with free ports and generated
// certificates in the tests named.
const (
	readmeSecureNATS    = "listens on 0.0.0.0 with generated users and TLS; TestAllInOneWithNATSUsersAndTLS and TestSecuredSplitDeployment run these steps on free ports"
	readmeSecureHTTP    = "listens on 0.0.0.0:9091 with an API key file; TestSecuredAllInOne runs the same on a free port (keys, JWTs, TLS, the scope matrix)"
	readmeSecureCompose = "the secured compose topology needs a Docker engine, which this machine lacks; TestSecuredAllInOne covers its keys and TLS"
)

// command is a README line without its trailing comment, as the test
// names it.
func commandOf(line string) string {
	if i := strings.Index(line, "  #"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// Every command in the README is run by a test here or listed in
// readmeNotRun with its reason, and readmeNotRun names no command the
// README no longer has.
func TestReadmeCommandsAreAccounted(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, b := range readmeBlocks(t) {
		for _, line := range b.lines {
			if strings.HasPrefix(line, "#") {
				continue // an answer, checked by the test that runs its command
			}
			cmd := commandOf(line)
			seen[cmd] = true
			if _, skip := readmeNotRun[cmd]; skip {
				continue
			}
			if !slices.Contains(readmeRun, cmd) {
				t.Errorf("README (%s): %q is neither run by TestReadmeCommandsLiterally nor listed in readmeNotRun", b.section, cmd)
			}
		}
	}
	for cmd := range readmeNotRun {
		if !seen[cmd] {
			t.Errorf("readmeNotRun names %q, which the README no longer has", cmd)
		}
	}
	for _, cmd := range readmeRun {
		if !seen[cmd] {
			t.Errorf("readmeRun names %q, which the README no longer has", cmd)
		}
	}
}

// The README's table of tasks is what `go tool task --list-all` lists.
func TestReadmeListsEveryTask(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "tool", "task", "--dir", "..", "--list-all").CombinedOutput()
	if err != nil {
		t.Fatalf("go tool task --list-all: %v\n%s", err, out)
	}
	var tasks []string
	for _, m := range regexp.MustCompile(`(?m)^\* ([a-z:-]+):`).FindAllStringSubmatch(string(out), -1) {
		if m[1] != "default" { // what plain `go tool task` runs: this list
			tasks = append(tasks, m[1])
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The task table is the first table after the line that announces it;
	// other tables (roles, scopes) have backticked first columns too.
	_, after, found := strings.Cut(string(readme), "`go tool task` lists every task:")
	if !found {
		t.Fatal("README: no line announcing the task table")
	}
	var table []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z:-]+)` \\|").FindAllStringSubmatch(taskTable(after), -1) {
		table = append(table, m[1])
	}
	slices.Sort(tasks)
	slices.Sort(table)
	if len(tasks) == 0 || !slices.Equal(tasks, table) {
		t.Fatalf("go tool task lists %v; the README's table %v", tasks, table)
	}
}

// taskTable is the first Markdown table in s.
func taskTable(s string) string {
	var rows []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "|") {
			rows = append(rows, line)
		} else if len(rows) > 0 {
			break
		}
	}
	return strings.Join(rows, "\n")
}

// docker compose cannot run here (no Docker engine), so the compose file
// is read instead: the services and published ports the README names are
// there, and every service builds from the Dockerfile the README names.
func TestReadmeComposeTopology(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Build any      `yaml:"build"`
			Image string   `yaml:"image"`
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	published := map[string]bool{}
	for _, s := range compose.Services {
		for _, p := range s.Ports {
			parts := strings.Split(p, ":")
			if len(parts) >= 2 {
				published[parts[len(parts)-2]] = true
			}
		}
	}
	// The ports of the README's "full topology" paragraph and Dashboards.
	for _, port := range []string{"4222", "9042", "9091", "9094", "9095", "9093", "8081", "9090", "3000"} {
		if !published[port] {
			t.Errorf("docker-compose.yml publishes no port %s (published: %v)", port, published)
		}
	}
	if _, err := os.Stat(filepath.Join("..", "Dockerfile")); err != nil {
		t.Error(err)
	}
}

// readmeRun are the README's commands TestReadmeCommandsLiterally runs as
// they are written, in the order it runs them.
var readmeRun = []string{
	// Two commands, the walkthrough, the registry and the nats CLI: one
	// fresh all-in-one.
	"go tool task run",
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123", "count": "100"}' http://localhost:9091/inventory/adjustment`,
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123", "count": "10"}' http://localhost:9091/inventory/reservation`,
	"curl -s http://localhost:9091/inventory/locations/STL/skus/123123",
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123", "count": 100}' http://localhost:9091/inventory/adjustment`,
	"curl -s localhost:9091/subjects",
	"curl -s localhost:9091/subjects/inventory.adjustments-value/versions/latest",
	// The sections that continue the walkthrough (readmeContinued).
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123","onHand":150}' http://localhost:9091/inventory/counts`,
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123","onHand":120,"expectedOnHand":149}' http://localhost:9091/inventory/counts`,
	`curl -H "Content-Type: application/json" -X POST -d '{"reservationId":"cart-2","lines":[{"locationId":"STL","sku":"123123","count":40}],"ttl":"10s"}' http://localhost:9091/inventory/reservations`,
	"sleep 11",
	"curl -s http://localhost:9091/inventory/reservations/cart-2",
	"curl -s -X POST http://localhost:9091/inventory/reservations/cart-2/confirm",
	`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"456456","count":100}' http://localhost:9091/inventory/adjustment`,
	`curl -H "Content-Type: application/json" -X POST -d '{"reservationId":"cart-1","lines":[{"locationId":"STL","sku":"456456","count":30}],"ttl":"15m"}' http://localhost:9091/inventory/reservations`,
	"curl -s http://localhost:9091/inventory/locations/STL/skus/456456",
	`curl -H "Content-Type: application/json" -X POST -d '{"lines":[{"locationId":"STL","sku":"456456","count":71}]}' http://localhost:9091/inventory/reservations`,
	"curl -X POST http://localhost:9091/inventory/reservations/cart-1/confirm",
	"curl -X POST http://localhost:9091/inventory/reservations/cart-1/fulfil",
	"curl -X POST http://localhost:9091/inventory/reservations/cart-1/release",
	"curl -s http://localhost:9091/inventory/reservations/cart-1",
	`curl -s -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123","count":5}' http://localhost:9091/inventory/adjustment`,
	"curl -s 'http://localhost:9091/inventory/locations/STL/skus/123123?minSeq=15'",
	"curl -s -H 'Inventory-Min-Seq: 15' 'http://localhost:9091/inventory/locations/STL/skus/123123?wait=5s'",
	`curl -s -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123","count":-2,"reason":"damaged","reference":"ticket 881"}' http://localhost:9091/inventory/adjustment`,
	"curl -s http://localhost:9091/inventory/skus/123123",
	"curl -N 'http://127.0.0.1:9091/inventory/changes?location=STL&lastEventId=0'",
	"curl -s 'http://localhost:9091/inventory/skus/123123?location=STL&location=KC'",
	"curl -s 'http://localhost:9091/inventory/locations/STL/skus/123123/history?limit=2'",
	"curl -s 'http://localhost:9091/inventory/locations/STL/skus/123123/history?limit=2&before=15'",
	`nats pub -J inventory.adjustments.STL.123123 '{"count":100}'`,
	`nats pub -J inventory.reservations.STL.123123 '{"locationId":"STL","sku":"123123","count":"10"}'`,
	"nats kv get --raw sellable_p2 STL.123123",
	"nats kv watch 'sellable_p2'",
	"nats stream info INVENTORY_DLQ",
	"nats stream get INVENTORY_DLQ 1",
	"go run ./services/inventory admin plan  --nats-url nats://127.0.0.1:4222 --replicas 3",
	// The operator CLI: a second fresh all-in-one.
	"inventoryctl adjust STL 123123 100 --key restock-42",
	"inventoryctl reserve STL 123123 10",
	"inventoryctl get STL 123123",
	"inventoryctl partitions",
	"inventoryctl watch --location STL",
	"inventoryctl dlq list",
	"inventoryctl admin plan",
	// The Scylla path: a third.
	"go tool task db:start",
	"SCYLLA_HOSTS=127.0.0.1:9042 go tool task run",
	"curl -s http://localhost:9093/inventory/locations/STL/skus/123123",
	"curl -s 'http://localhost:9093/inventory/locations/STL/skus?limit=10'",
	"curl -s -H 'Inventory-Min-Seq: 1' 'http://localhost:9093/inventory/locations/STL/skus/123123?wait=5s'",
	"curl -s 'http://localhost:9093/inventory/skus/123123?location=STL&location=KC'",
}

// readmeRunner runs README commands in a fresh copy of the repository.
type readmeRunner struct {
	t   *testing.T
	dir string
	env []string
}

// sh runs one README line as a user would type it, and returns what it
// printed on stdout; an error carries its stderr.
func (r *readmeRunner) sh(line string) (string, error) {
	r.t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	return string(out), err
}

// must runs line and fails the test unless it succeeds and what it
// printed (stdout and stderr: the nats CLI reports on stderr) matches want
// (a regular expression; empty: anything).
// readmeContinued are the README's sections whose blocks continue the
// walkthrough, in the README's order (the cart section on a SKU of its
// own, so that the positions stay as the sections around it say).
var readmeContinued = []string{
	"Stock counts",
	"Reserve → expire",
	"Cart reservations",
	"Read your writes",
	"Reasons and references",
	"A SKU everywhere",
	"A position's history",
}

// section runs a README section's block literally, in order, and checks
// each answer it shows (matchShown). A command that stores something
// (POST) and the README's own sleep run once; a read is repeated until
// it answers as shown, since the view follows the log by a few
// milliseconds.
func (r *readmeRunner) section(name string) {
	r.t.Helper()
	for _, s := range readmeSection(r.t, name) {
		var last string
		run := func() error {
			out, err := r.sh(s.cmd)
			last = out
			if err != nil {
				return fmt.Errorf("%s: %w\n%s", s.cmd, err, out)
			}
			if s.want == nil {
				return nil
			}
			return matchShown([]byte(out), s.want)
		}
		if strings.Contains(s.cmd, "-X POST") || strings.HasPrefix(s.cmd, "sleep ") {
			if err := run(); err != nil {
				r.t.Fatalf("README %s: %v", name, err)
			}
		} else {
			poll.Until(r.t, 10*time.Second, "README "+name+": "+s.cmd, run)
		}
		r.t.Logf("README %s: %s\n%s", name, s.cmd, last)
	}
}

func (r *readmeRunner) must(line, want string) string {
	r.t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		r.t.Fatalf("%s: %v\n%s", line, err, out)
	}
	if want != "" && !regexp.MustCompile(want).MatchString(out) {
		r.t.Fatalf("%s: output does not match %q:\n%s", line, want, out)
	}
	return out
}

// within runs line with a time limit, for the commands that run until
// Ctrl-C, and returns what it printed meanwhile.
func (r *readmeRunner) within(line string, d time.Duration) string {
	r.t.Helper()
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	time.AfterFunc(d, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) })
	_ = cmd.Wait()
	return out.String()
}

// system runs `go tool task run` (or the Scylla variant) as the README
// says, in the foreground of its own process group, until stopped with
// Ctrl-C (SIGINT to the group, as a terminal sends it).
type system struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  string
	done chan error
}

func (r *readmeRunner) start(line string) *system {
	r.t.Helper()
	logPath := filepath.Join(r.t.TempDir(), "run.log")
	f, err := os.Create(logPath)
	if err != nil {
		r.t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Dir, cmd.Env = r.dir, r.env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	s := &system{t: r.t, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); f.Close() }()
	r.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if r.t.Failed() {
			b, _ := os.ReadFile(logPath)
			r.t.Logf("--- %s ---\n%s", line, tail(b, 4000))
		}
	})
	poll.Until(r.t, 3*time.Minute, line+" listening on :9091", func() error { return dial("127.0.0.1:9091") }) // it builds first
	waitReady(r.t, "http://localhost:9091")
	return s
}

// interrupt is Ctrl-C: the run ends and frees its ports.
func (s *system) interrupt() {
	s.t.Helper()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.t.Fatal("go tool task run did not stop within 30 s of Ctrl-C")
	}
	poll.Until(s.t, 20*time.Second, "ports free after Ctrl-C", func() error { return portsFree("9091", "4222", "9093") })
}

// portsFree says which of the README's fixed ports is taken, if any.
func portsFree(ports ...string) error {
	var busy []string
	for _, p := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:"+p)
		if err != nil {
			busy = append(busy, p)
			continue
		}
		l.Close()
	}
	if len(busy) > 0 {
		return fmt.Errorf("127.0.0.1:%s in use", strings.Join(busy, ", :"))
	}
	return nil
}

// freshClone is the repository's committed tree in a new directory, as
// `git clone` would give it (without the history): the README's commands
// run there, so ./data starts empty and nothing of the developer's
// working tree leaks in.
func freshClone(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	archive := exec.Command("git", "-C", "..", "archive", "HEAD")
	extract := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	extract.Stdin = pipe
	if err := extract.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Skipf("not a git checkout (%v): no fresh clone to run the README in", err)
	}
	if err := extract.Wait(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The README's commands, run literally, in a fresh copy of the committed
// tree, against `go tool task run` on the README's fixed ports (9091,
// 4222, 9093): what each block shows is what happens. It needs those
// ports and is skipped when another program holds one (it does not take
// them from anyone); the nats CLI lines need `nats` on the PATH (natscli
// v0.5.0), the Scylla path a Cassandra that `go tool task db:start`
// starts or finds running.
func TestReadmeCommandsLiterally(t *testing.T) {
	if err := portsFree("9091", "4222", "9093"); err != nil {
		t.Skipf("the README's commands use fixed ports: %v", err)
	}
	for _, tool := range []string{"curl", "git", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	r := &readmeRunner{t: t, dir: freshClone(t)}
	// No setting of the developer's shell changes what the README shows;
	// the programs built by the README's commands go on the PATH as
	// `go tool task build` puts them in bin/.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INVENTORY_") && !strings.HasPrefix(kv, "NATS_URL=") && !strings.HasPrefix(kv, "SCYLLA_") {
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env, "PATH="+filepath.Join(r.dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))

	t.Run("walkthrough", func(t *testing.T) {
		r.t = t
		sys := r.start("go tool task run")
		for _, s := range readmeWalkthrough(t) {
			run := func() error {
				out, err := r.sh(s.cmd)
				if err != nil {
					return fmt.Errorf("%s: %w\n%s", s.cmd, err, out)
				}
				if s.want == nil {
					return nil
				}
				return matchAnswer([]byte(out), s.want, s.partial)
			}
			if strings.Contains(s.cmd, "-X POST") {
				if err := run(); err != nil { // once: a repeat is another event
					t.Fatal(err)
				}
				continue
			}
			poll.Until(t, 10*time.Second, "README answer to "+s.cmd, run)
		}

		r.must("curl -s localhost:9091/subjects", `"inventory\.adjustments-value"`)
		r.must("curl -s localhost:9091/subjects/inventory.adjustments-value/versions/latest", `"subject":"inventory\.adjustments-value","version":1`)
		// The sections after the walkthrough continue its position, in
		// the README's order, each answer as shown.
		for _, section := range readmeContinued {
			r.section(section)
		}
		// The feed never ends by itself: read it for a few seconds.
		if out := r.within("curl -N 'http://127.0.0.1:9091/inventory/changes?location=STL&lastEventId=0'", 3*time.Second); !strings.Contains(out, "event: change") || !strings.Contains(out, `"locationId":"STL"`) {
			t.Fatalf("the change feed showed no change of STL:\n%s", out)
		}

		r.must("go run ./services/inventory admin plan  --nats-url nats://127.0.0.1:4222 --replicas 3", `~ stream INVENTORY replicas: existing 1, wanted 3`)

		if _, err := exec.LookPath("nats"); err != nil {
			t.Log("the nats CLI is not on the PATH: its README lines are not run (install natscli v0.5.0 as the README says)")
			sys.interrupt()
			return
		}
		r.must(`nats pub -J inventory.adjustments.STL.123123 '{"count":100}'`, `Stored in Stream: INVENTORY Sequence: \d+`)
		r.must(`nats pub -J inventory.reservations.STL.123123 '{"locationId":"STL","sku":"123123","count":"10"}'`, `Stored in Stream: INVENTORY`)
		poll.Until(t, 10*time.Second, "the view shows the nats CLI's events", func() error {
			out, err := r.sh("nats kv get --raw sellable_p2 STL.123123")
			if err != nil || !strings.Contains(out, `"count":233`) {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		if out := r.within("nats kv watch 'sellable_p2'", 3*time.Second); !strings.Contains(out, `"count":233`) {
			t.Fatalf("nats kv watch 'sellable_p2' did not show the key's value:\n%s", out)
		}
		// A dead letter for the two DLQ lines: a count the rules refuse.
		r.must(`nats pub -J inventory.adjustments.STL.123123 '{"count":0}'`, `Stored in Stream: INVENTORY`)
		poll.Until(t, 10*time.Second, "a dead letter", func() error {
			out, err := r.sh("nats stream info INVENTORY_DLQ")
			if err != nil || !regexp.MustCompile(`Messages: 1\b`).MatchString(out) {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		r.must("nats stream get INVENTORY_DLQ 1", `Inventory-Error: count: must not be zero`)
		sys.interrupt()
	})
	if t.Failed() {
		return
	}

	t.Run("operator CLI", func(t *testing.T) {
		r.t = t
		if err := os.RemoveAll(filepath.Join(r.dir, "data")); err != nil { // a new system, as the block's answers assume
			t.Fatal(err)
		}
		r.must("go tool task build", "")
		sys := r.start("go tool task run")
		r.must("inventoryctl adjust STL 123123 100 --key restock-42", "")
		r.must("inventoryctl adjust STL 123123 100 --key restock-42", "") // "same key again: stored once"
		r.must("inventoryctl reserve STL 123123 10", "")
		poll.Until(t, 10*time.Second, "inventoryctl get answers as the README shows", func() error {
			out, err := r.sh("inventoryctl get STL 123123")
			if err != nil || !strings.HasPrefix(out, `location="STL" sku="123123" sellable=90 adjusted=100 reserved=10 seq=2 updated=`) {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		r.must("inventoryctl partitions", "")
		out := r.within("inventoryctl watch --location STL", 3*time.Second)
		if strings.Contains(out, "Error") {
			t.Fatalf("inventoryctl watch --location STL:\n%s", out)
		}
		r.must("inventoryctl dlq list", "")
		r.must("inventoryctl admin plan", "")
		sys.interrupt()
	})
	if t.Failed() {
		return
	}

	t.Run("Scylla path", func(t *testing.T) {
		r.t = t
		if err := os.RemoveAll(filepath.Join(r.dir, "data")); err != nil {
			t.Fatal(err)
		}
		if out, err := r.sh("go tool task db:start"); err != nil {
			t.Skipf("go tool task db:start: %v (Java 17 and Maven needed)\n%s", err, tail([]byte(out), 2000))
		}
		sys := r.start("SCYLLA_HOSTS=127.0.0.1:9042 go tool task run")
		r.must(`curl -H "Content-Type: application/json" -X POST -d '{"locationId":"STL","sku":"123123", "count": "100"}' http://localhost:9091/inventory/adjustment`, `"seq":1`)
		// The keyspace "inventory" outlives the run (only db:stop and
		// `cassandra.sh wipe`, which this test must not run, end it), so a
		// row from an earlier run can be there: the row is checked, and
		// its count only when it is this run's event.
		poll.Until(t, 20*time.Second, "the Scylla path shows the adjustment", func() error {
			out, err := r.sh("curl -s http://localhost:9093/inventory/locations/STL/skus/123123")
			if err != nil || !strings.Contains(out, `"locationId":"STL","sku":"123123"`) {
				return fmt.Errorf("%v: %s", err, out)
			}
			if strings.Contains(out, `"seq":1,`) && !strings.Contains(out, `"count":100,`) {
				return fmt.Errorf("row of this run's event: %s", out)
			}
			return nil
		})
		r.must("curl -s 'http://localhost:9093/inventory/locations/STL/skus?limit=10'", `"items":\[.*"sku":"123123"`)
		r.must("curl -s -H 'Inventory-Min-Seq: 1' 'http://localhost:9093/inventory/locations/STL/skus/123123?wait=5s'", `"locationId":"STL","sku":"123123"`)
		r.must("curl -s 'http://localhost:9093/inventory/skus/123123?location=STL&location=KC'", `"locations":\[\{"locationId":"STL".*"totals"`)
		sys.interrupt()
	})
}
