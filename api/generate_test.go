package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sellable/inventory/api"
)

// generateLines are the oapi-codegen commands of generate.go, as
// arguments after "go tool".
func generateLines(t *testing.T) [][]string {
	t.Helper()
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for _, l := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(l, "//go:generate go tool "); ok {
			lines = append(lines, strings.Fields(rest))
		}
	}
	if len(lines) == 0 {
		t.Fatal("generate.go has no go:generate lines")
	}
	return lines
}

// flag is the value after name in args.
func flag(t *testing.T, args []string, name string) string {
	t.Helper()
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("%v: no %s", args, name)
	}
	return args[i+1]
}

// TestGeneratedCodeIsCurrent runs each go:generate line of generate.go
// into a temporary directory and fails when the committed file differs:
// a document edited without `go generate ./api` fails here, and the
// build then fails until every program implements the new operations.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	tmp := t.TempDir()
	for _, args := range generateLines(t) {
		committed := flag(t, args, "-o")
		out := filepath.Join(tmp, strings.ReplaceAll(committed, "/", "_"))
		run := slices.Clone(args)
		run[slices.Index(run, "-o")+1] = out
		cmd := exec.Command("go", append([]string{"tool"}, run...)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go tool %s: %v\n%s", strings.Join(run, " "), err, b)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(committed)
		if err != nil {
			t.Fatalf("%v (run go generate ./api)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("api/%s is not what api/openapi.yaml generates: run go generate ./api", committed)
		}
	}
}

// TestEveryTagIsGenerated fails when an operation of the document would
// land in no generated server (a tag without a configuration) or in two
// (two tags), or a configuration is not run by go generate.
func TestEveryTagIsGenerated(t *testing.T) {
	configs := map[string]string{} // tag → configuration
	for _, args := range generateLines(t) {
		path := flag(t, args, "-config")
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			OutputOptions struct {
				IncludeTags []string `yaml:"include-tags"`
			} `yaml:"output-options"`
		}
		if err := yaml.Unmarshal(raw, &cfg); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(cfg.OutputOptions.IncludeTags) != 1 {
			t.Errorf("%s: include-tags %v, want one tag per generated package", path, cfg.OutputOptions.IncludeTags)
		}
		for _, tag := range cfg.OutputOptions.IncludeTags {
			configs[tag] = path
		}
	}
	all, err := filepath.Glob("gen/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range all {
		if !slices.ContainsFunc(generateLines(t), func(args []string) bool { return flag(t, args, "-config") == path }) {
			t.Errorf("generate.go does not run %s", path)
		}
	}
	doc := loadSpec(t, api.Spec)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if len(op.Tags) != 1 {
				t.Errorf("%s %s has tags %v, want exactly one (it selects the generated server)", method, path, op.Tags)
				continue
			}
			tag := op.Tags[0]
			if _, ok := configs[tag]; !ok {
				t.Errorf("%s %s: tag %q has no api/gen/%s.yaml run by generate.go", method, path, tag, tag)
			}
		}
	}
}
