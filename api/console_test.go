package api_test

import (
	"os"
	"regexp"
	"testing"
)

// The console's script writes nothing to the browser's log (where a
// token would end up with the rest) and reads the feed without
// EventSource, which cannot send the bearer token: the browser test
// (e2e TestConsoleOnSecuredAllInOne) checks what goes over the wire,
// this what the script could do off the tested path.
func TestConsoleScriptNeitherLogsNorUsesEventSource(t *testing.T) {
	b, err := os.ReadFile("console/console.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`\bconsole\.[a-z]+\(`, `\bEventSource\(`, `localStorage`, `document\.cookie`} {
		if m := regexp.MustCompile(re).Find(b); m != nil {
			t.Errorf("console.js has %s", m)
		}
	}
}
