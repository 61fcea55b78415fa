package app

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// setting is one row of the configuration table: an environment
// variable and the flag that sets the same thing ("" when it has none).
type setting struct{ env, flag string }

// programSettings is every setting each program in services/ (but the
// load tool, whose flags are not settings of the system) accepts,
// registered as its main registers them.
func programSettings() map[string][]setting {
	flagSets := map[string]Flags{
		"inventory":       AllInOneProgram().Flags,
		"mutator":         MutatorProgram().Flags,
		"schema-registry": SchemaRegistryProgram().Flags,
	}
	calc, _ := CalculatorProgram()
	flagSets["calculator"] = calc.Flags
	sell, _ := SellableProgram()
	flagSets["sellable-service"] = sell.Flags
	out := map[string][]setting{}
	for name, f := range flagSets {
		mainFlags(f) // what MainArgs adds
		for _, b := range *f.env {
			out[name] = append(out[name], setting{env: b.env, flag: b.flag})
		}
		// A flag without an environment variable would be missing
		// from the table's first column.
		f.VisitAll(func(fl *flag.Flag) {
			if !slices.ContainsFunc(out[name], func(s setting) bool { return s.flag == fl.Name }) {
				out[name] = append(out[name], setting{flag: fl.Name})
			}
		})
		out[name] = append(out[name], setting{env: LogLevelEnv}) // read by Logger, no flag
	}
	return out
}

// readmeTable is the README's configuration table.
func readmeTable(t *testing.T) []setting {
	t.Helper()
	fh, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	row := regexp.MustCompile("^\\| (?:`([A-Z0-9_]+)`)? *\\| (?:`--([a-z0-9-]+)`)? *\\|")
	var rows []setting
	in := false
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Configuration"
		case in && strings.HasPrefix(line, "| variable | flag |"):
		case in:
			if m := row.FindStringSubmatch(line); m != nil {
				rows = append(rows, setting{env: m[1], flag: m[2]})
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no configuration table under \"## Configuration\" in README.md")
	}
	return rows
}

// The README's configuration table names every flag and environment
// variable the programs register, each with its pair, and nothing they
// do not: a newcomer looked for --max-in-flight and --scylla-replication
// there and found neither.
func TestConfigurationTableMatchesFlags(t *testing.T) {
	table := readmeTable(t)
	seen := map[setting]bool{}
	for _, r := range table {
		if seen[r] {
			t.Errorf("README configuration table lists %s / --%s twice", r.env, r.flag)
		}
		seen[r] = true
	}
	registered := map[setting][]string{}
	for prog, ss := range programSettings() {
		for _, s := range ss {
			registered[s] = append(registered[s], prog)
		}
	}
	for s, progs := range registered {
		if !seen[s] {
			slices.Sort(progs)
			t.Errorf("README configuration table has no row `%s` | `--%s` (registered by %s)", s.env, s.flag, strings.Join(progs, ", "))
		}
	}
	for _, r := range table {
		if _, ok := registered[r]; !ok {
			t.Errorf("README configuration table lists `%s` | `--%s`, which no program registers", r.env, r.flag)
		}
	}
}
