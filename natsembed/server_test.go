package natsembed

import "testing"

func TestSyncValue(t *testing.T) {
	for in, want := range map[string]Sync{
		"always": {Always: true},
		"30s":    {Interval: 30_000_000_000},
	} {
		var s Sync
		if err := s.Set(in); err != nil || s != want {
			t.Errorf("Set(%q) = %+v, %v; want %+v", in, s, err, want)
		}
	}
	for _, in := range []string{"", "never", "-1s", "0"} {
		var s Sync
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) accepted", in)
		}
	}
}
