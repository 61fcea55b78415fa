// Package poll is how tests wait for an effect: they check a condition
// until it holds or a deadline passes, never sleeping a fixed time.
package poll

import (
	"testing"
	"time"
)

// interval is the pause between checks: short next to every deadline.
const interval = 20 * time.Millisecond

// Until calls cond until it returns nil, failing t with what and the last
// error if d passes first.
func Until(t testing.TB, d time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(interval)
	}
}
