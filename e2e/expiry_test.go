package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/poll"
)

// expiresAt reads a reservation answer's expiresAt.
func expiresAt(t *testing.T, out reserveOutcome) time.Time {
	t.Helper()
	if out.status != http.StatusCreated {
		t.Fatalf("reservation: status %d: %v", out.status, out.body)
	}
	s, _ := out.body["expiresAt"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("expiresAt %q: %v", s, err)
	}
	return at
}

// waitSellable polls until a position shows sellable and returns when it
// first did.
func waitSellable(t *testing.T, base, loc, sku string, sellable int, within time.Duration) time.Time {
	t.Helper()
	var at time.Time
	poll.Until(t, within, fmt.Sprintf("%s/%s sellable %d", loc, sku, sellable), func() error {
		_, _, s, err := positionOf(base, loc, sku)
		if err != nil {
			return err
		}
		if s != sellable {
			return fmt.Errorf("sellable %d", s)
		}
		at = time.Now()
		return nil
	})
	return at
}

// TestExpiryAcrossRestart is issue 12.3's done-when on the all-in-one:
// an expired reservation's units come back within a second of expiresAt
// while it runs, and within a second of its start when it was down at
// expiresAt (SIGKILL, so nothing was handed over); a confirmed one never
// expires; one released before its expiry returns its units once.
func TestExpiryAcrossRestart(t *testing.T) {
	t.Parallel()
	a := newAllInOne(t)
	p := a.start(t)
	deadline := time.Now().Add(90 * time.Second)
	loc, sku := fmt.Sprintf("expiry-%d", rand.Int()), "e"
	command(t, a.base, "adjustment", loc, sku, 20, "")
	waitCount(t, a.base, loc, sku, 20)
	id := func(s string) string { return loc + "-" + s }
	one := func(n int) []line { return []line{{loc, sku, n}} }

	// Expires while the all-in-one runs.
	atA := expiresAt(t, reserve(t, deadline, a.base, id("a"), "10s", one(4)))
	waitSellable(t, a.base, loc, sku, 16, 10*time.Second)
	back := waitSellable(t, a.base, loc, sku, 20, 20*time.Second)
	if late := back.Sub(atA); late > time.Second || late < 0 {
		t.Fatalf("units back %v after expiresAt", late)
	}
	t.Logf("running: units back %v after expiresAt", back.Sub(atA).Round(time.Millisecond))

	// Confirmed (paid): no expiry any more. Released: units back once,
	// and its schedule firing later changes nothing.
	expiresAt(t, reserve(t, deadline, a.base, id("c"), "10s", one(5)))
	if st, out, err := answer(api(a.base).ConfirmReservation(context.Background(), id("c"))); err != nil || st != http.StatusOK {
		t.Fatalf("confirm: %d %v %v", st, out, err)
	}
	atD := expiresAt(t, reserve(t, deadline, a.base, id("d"), "10s", one(2)))
	if st, out, err := answer(api(a.base).ReleaseReservation(context.Background(), id("d"))); err != nil || st != http.StatusOK {
		t.Fatalf("release: %d %v %v", st, out, err)
	}

	// Expires while the all-in-one is down: SIGKILL, wait past
	// expiresAt, start again.
	atB := expiresAt(t, reserve(t, deadline, a.base, id("b"), "10s", one(3)))
	waitSellable(t, a.base, loc, sku, 12, 10*time.Second)
	p.kill()
	poll.Until(t, 15*time.Second, "expiresAt of b and d passed while down", func() error {
		if now := time.Now(); now.Before(atB.Add(500*time.Millisecond)) || now.Before(atD) {
			return fmt.Errorf("%v to go", atB.Add(500*time.Millisecond).Sub(now))
		}
		return nil
	})
	p = a.start(t)
	ready := time.Now()
	back = waitSellable(t, a.base, loc, sku, 15, 10*time.Second)
	if late := back.Sub(ready); late > time.Second {
		t.Fatalf("units back %v after the restart (expiresAt was %v before it)", late, ready.Sub(atB).Round(time.Millisecond))
	}
	t.Logf("down at expiresAt: units back %v after the restart was ready", back.Sub(ready).Round(time.Millisecond))

	// Exactly once: a, b and d returned their units once, c still holds
	// its 5, and so it stays once every schedule has fired and been
	// decided (the states say expired, expired, released, confirmed).
	for _, want := range []struct{ id, state string }{{"a", "expired"}, {"b", "expired"}, {"c", "confirmed"}, {"d", "released"}} {
		poll.Until(t, 10*time.Second, "state of "+want.id, func() error {
			st, out, err := getReservation(a.base, id(want.id))
			if err != nil {
				return err
			}
			if st != http.StatusOK || out["state"] != want.state {
				return fmt.Errorf("status %d: %v", st, out)
			}
			return nil
		})
	}
	waitPosition(t, a.base, loc, sku, 20, 5, 15)
	p.stop()
}
