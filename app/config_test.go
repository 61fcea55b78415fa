package app

import (
	"strings"
	"testing"
	"time"

	"github.com/sellable/inventory/natsembed"
)

// A malformed environment value used to be ignored, leaving the default
// in force without a word; it must stop the program with a message that
// names the variable and the value.
func TestMalformedEnvironmentValueFailsParse(t *testing.T) {
	for _, tc := range []struct{ env, value string }{
		{"INVENTORY_PARTITIONS", "abc"},
		{"INVENTORY_REPLICAS", "3x"},
		{"INVENTORY_MAX_BYTES", "10GB"},
		{"INVENTORY_MAX_AGE", "7 days"},
		{"INVENTORY_SYNC", "sometimes"},
		{"INVENTORY_TEST_BOOL", "yes please"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			f := NewFlags("test")
			CommonFlags(f, "", "", "")
			var sync natsembed.Sync
			f.Var(&sync, "sync", "INVENTORY_SYNC", "")
			var b bool
			f.BoolVar(&b, "test-bool", "INVENTORY_TEST_BOOL", false, "")
			err := f.Parse(nil)
			if err == nil {
				t.Fatalf("%s=%q accepted", tc.env, tc.value)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.env) || !strings.Contains(msg, `"`+tc.value+`"`) {
				t.Fatalf("error %q does not name %s and %q", msg, tc.env, tc.value)
			}
		})
	}
}

func TestEnvironmentSetsFlagsAndFlagsWin(t *testing.T) {
	t.Setenv("INVENTORY_PARTITIONS", "16")
	t.Setenv("INVENTORY_REPLICAS", "3")
	t.Setenv("INVENTORY_MAX_AGE", "72h")
	t.Setenv("INVENTORY_MAX_BYTES", "") // empty counts as unset
	t.Setenv("NATS_URL", "")            // but an empty string is a value
	f := NewFlags("test")
	c := CommonFlags(f, "127.0.0.1:1", "nats://default", "")
	if err := f.Parse([]string{"--replicas", "5"}); err != nil {
		t.Fatal(err)
	}
	if c.Partitions != 16 || c.Replicas != 5 || c.MaxAge != 72*time.Hour || c.MaxBytes != 0 || c.NATSURL != "" {
		t.Fatalf("got %+v", *c)
	}
}

func TestUnknownLogLevelFails(t *testing.T) {
	t.Setenv("INVENTORY_LOG_LEVEL", "loud")
	if _, err := Logger(); err == nil || !strings.Contains(err.Error(), `"loud"`) {
		t.Fatalf("Logger with level loud: %v", err)
	}
}
