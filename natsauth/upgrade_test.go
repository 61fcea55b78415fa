package natsauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/internal/logtest"
	"github.com/sellable/inventory/internal/poll"
	"github.com/sellable/inventory/kv"
	"github.com/sellable/inventory/natsauth"
	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// A view bucket without its RePublish (a deployment of the version that
// published changes on SELLABLE, upgraded without `inventory admin apply`)
// opened by a program whose role may not update streams: the program
// starts at once, with a warning that says how to add it.
func TestProgramWithoutUpdateRightsWarnsAboutRepublish(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, ajs, _ := d.connect(t, natsauth.Admin)
	st, err := ajs.Stream(ctx, kv.StreamName(0))
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.RePublish = nil
	if _, err := ajs.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	_, cjs, _ := d.connect(t, natsauth.Calculator)
	logs := logtest.New()
	began := time.Now()
	if _, err := kv.Open(ctx, cjs, kv.Config{Partitions: topology.Partitions, Replicas: 1, Logger: logs.Logger()}); err != nil {
		t.Fatal(err)
	}
	t.Logf("opened in %v", time.Since(began))
	if !strings.Contains(logs.String(), "inventory admin apply") {
		t.Fatalf("no warning naming the fix:\n%s", logs.String())
	}
}

// The event stream of an older version (without this version's subjects
// and atomic publish; see streams.Ensure) checked by a program whose role
// may not update streams: the refused upgrade fails at once with an error
// naming the fix, within the attempt's own bound, not the caller's whole
// context (the program's start retries it until an admin has applied it).
func TestProgramWithoutUpdateRightsIsToldToApplyTheStreamUpgrade(t *testing.T) {
	d := secured(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, ajs, _ := d.connect(t, natsauth.Admin)
	st, err := ajs.Stream(ctx, streams.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.Subjects = []string{streams.EventSubjectFilter(sellable.Adjustment), streams.EventSubjectFilter(sellable.Reservation)}
	if _, err := ajs.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	_, mjs, v := d.connect(t, natsauth.Mutator)
	err = streams.Ensure(ctx, mjs, topology.Streams(logtest.New().Logger()))
	if ctx.Err() != nil {
		t.Fatalf("the refused upgrade took the caller's whole context: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "inventory admin apply") {
		t.Fatalf("Ensure = %v, want an error naming `inventory admin apply`", err)
	}
	poll.Until(t, 10*time.Second, "the update refused", v.refused("$JS.API.STREAM.UPDATE."+streams.EventStream))
}
