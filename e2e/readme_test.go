package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// walkthroughStep is one command of the README's walkthrough and the
// answer the README shows for it in the comment below it, if any.
type walkthroughStep struct {
	cmd string
	// want is the answer's fields; partial when the README elides the
	// rest with "...".
	want    map[string]any
	partial bool
}

// readmeWalkthrough is the shell block under "## Walkthrough".
func readmeWalkthrough(t *testing.T) []walkthroughStep {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []walkthroughStep
	section, block := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Walkthrough"
		case section && strings.HasPrefix(line, "```"):
			if block {
				return steps
			}
			block = true
		case block && strings.HasPrefix(line, "# "):
			if len(steps) == 0 {
				t.Fatalf("README walkthrough: answer %q before any command", line)
			}
			body, partial := strings.CutSuffix(strings.TrimPrefix(line, "# "), ",...}")
			if partial {
				body += "}"
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatalf("README walkthrough: answer %q is not JSON: %v", line, err)
			}
			steps[len(steps)-1].want, steps[len(steps)-1].partial = want, partial
		case block && strings.TrimSpace(line) != "":
			steps = append(steps, walkthroughStep{cmd: line})
		}
	}
	t.Fatal("README.md has no shell block under \"## Walkthrough\"")
	return nil
}

// The README's walkthrough, run literally with curl against the
// all-in-one (on free ports: only the address is replaced), answers what
// the README says it answers: 90, then 190. A query is repeated until it
// does, since the view follows the commands by a few milliseconds.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	steps := readmeWalkthrough(t)
	if len(steps) < 5 {
		t.Fatalf("README walkthrough has %d commands, want the 5 of the two-query example", len(steps))
	}
	a := newAllInOne(t)
	a.start(t)
	for _, s := range steps {
		cmd := strings.ReplaceAll(s.cmd, "http://localhost:9091", a.base)
		if cmd == s.cmd {
			t.Fatalf("README walkthrough command %q does not name http://localhost:9091", s.cmd)
		}
		run := func() error {
			out, err := exec.Command("sh", "-c", cmd).Output()
			if err != nil {
				return fmt.Errorf("%s: %w", cmd, err)
			}
			if s.want == nil {
				return nil
			}
			return matchAnswer(out, s.want, s.partial)
		}
		if strings.Contains(cmd, "-X POST") {
			// A command is run once: a repeat would be another event.
			if err := run(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		poll.Until(t, 10*time.Second, "README answer to "+s.cmd, run)
	}
}

// matchAnswer compares a JSON answer with the README's. updatedAt is a
// time, so only its presence is checked.
func matchAnswer(out []byte, want map[string]any, partial bool) error {
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("answer %q is not JSON: %w", out, err)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return fmt.Errorf("answer %s has no %q", out, k)
		}
		if k != "updatedAt" && fmt.Sprint(g) != fmt.Sprint(w) {
			return fmt.Errorf("answer %s: %s = %v, README says %v", out, k, g, w)
		}
	}
	if !partial && len(got) != len(want) {
		return fmt.Errorf("answer %s has other fields than the README's %v", out, want)
	}
	return nil
}

// readmeSection is the first shell block under the README heading named
// section (any level), as commands and the answers shown below them. An
// answer may elide fields with "..." ({"a":1,...}) and values with "...".
func readmeSection(t *testing.T, section string) []walkthroughStep {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []walkthroughStep
	in, block := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case !block && strings.HasPrefix(line, "#"):
			in = strings.TrimSpace(strings.TrimLeft(line, "#")) == section
		case in && strings.HasPrefix(line, "```"):
			if block {
				return steps
			}
			block = true
		case block && strings.HasPrefix(line, "# "):
			if len(steps) == 0 {
				t.Fatalf("README %s: answer %q before any command", section, line)
			}
			body := strings.ReplaceAll(strings.TrimPrefix(line, "# "), ",...}", `,"...":true}`)
			var want map[string]any
			if err := json.Unmarshal([]byte(body), &want); err != nil {
				t.Fatalf("README %s: answer %q is not JSON: %v", section, line, err)
			}
			steps[len(steps)-1].want = want
		case block && strings.TrimSpace(line) != "":
			steps = append(steps, walkthroughStep{cmd: commandOf(line)})
		}
	}
	t.Fatalf("README.md has no shell block under %q", section)
	return nil
}

// matchShown compares a JSON answer with one readmeSection parsed: a
// "..." key stands for the fields the README leaves out, a "..." value
// for any value (times, generated ids).
func matchShown(out []byte, want map[string]any) error {
	var got any
	if err := json.Unmarshal(out, &got); err != nil {
		return fmt.Errorf("answer %q is not JSON: %w", out, err)
	}
	if err := matchValue("", got, want); err != nil {
		return fmt.Errorf("answer %s: %w", out, err)
	}
	return nil
}

func matchValue(path string, got, want any) error {
	if want == "..." {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s is %v, README shows an object", path, got)
		}
		_, partial := w["..."]
		for k, wv := range w {
			if k == "..." {
				continue
			}
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s has no %q", path, k)
			}
			if err := matchValue(path+"."+k, gv, wv); err != nil {
				return err
			}
		}
		if n := len(w); !partial && len(g) != n {
			return fmt.Errorf("%s has other fields than the README's", path)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s is %v, README shows %d elements", path, got, len(w))
		}
		for i := range w {
			if err := matchValue(fmt.Sprintf("%s[%d]", path, i), g[i], w[i]); err != nil {
				return err
			}
		}
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%s = %v, README shows %v", path, got, want)
		}
	}
	return nil
}

// matchShown holds an answer to what the README shows: "..." elides
// fields or a value, never a difference in what is shown.
func TestMatchShown(t *testing.T) {
	t.Parallel()
	want := map[string]any{}
	if err := json.Unmarshal([]byte(`{"a":1,"t":"...","l":[{"s":2,"...":true}],"...":true}`), &want); err != nil {
		t.Fatal(err)
	}
	for answer, ok := range map[string]bool{
		`{"a":1,"t":"x","l":[{"s":2,"u":3}],"z":4}`: true,
		`{"a":1,"t":"x","l":[{"s":2}]}`:             true,
		`{"a":2,"t":"x","l":[{"s":2}]}`:             false, // a value differs
		`{"a":1,"l":[{"s":2}]}`:                     false, // a shown field is missing
		`{"a":1,"t":"x","l":[{"s":3}]}`:             false, // nested value differs
		`{"a":1,"t":"x","l":[{"s":2},{"s":2}]}`:     false, // another element
	} {
		if err := matchShown([]byte(answer), want); (err == nil) != ok {
			t.Errorf("matchShown(%s) = %v, want ok %v", answer, err, ok)
		}
	}
	exact := map[string]any{"a": 1.0}
	if err := matchShown([]byte(`{"a":1,"b":2}`), exact); err == nil {
		t.Error("an answer with a field the README does not show (and does not elide) matched")
	}
}
