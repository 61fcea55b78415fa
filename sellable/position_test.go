package sellable_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
)

func TestApplyFoldsOnceInOrder(t *testing.T) {
	at := time.Unix(1700000000, 0).UTC()
	var p sellable.Position
	steps := []struct {
		kind    sellable.Kind
		count   int64
		seq     uint64
		applied bool
		want    int64
	}{
		{sellable.Adjustment, 100, 3, true, 100},
		{sellable.Reservation, 10, 5, true, 90},
		{sellable.Reservation, 10, 5, false, 90}, // redelivered
		{sellable.Adjustment, 100, 4, false, 90}, // older than what is reflected
		{sellable.Adjustment, -7, 9, true, 83},
	}
	for i, s := range steps {
		if got := p.Apply(s.kind, s.count, s.seq, at); got != s.applied {
			t.Fatalf("step %d: applied = %v, want %v", i, got, s.applied)
		}
		if p.Count != s.want || p.Count != p.OnHand-p.Reserved {
			t.Fatalf("step %d: %+v, want count %d", i, p, s.want)
		}
	}
	if p.Seq != 9 || p.OnHand != 93 || p.Reserved != 10 {
		t.Fatalf("final %+v", p)
	}
}

func TestValidateCount(t *testing.T) {
	cases := []struct {
		kind  sellable.Kind
		count int64
		want  error
	}{
		{sellable.Adjustment, 5, nil},
		{sellable.Adjustment, -5, nil},
		{sellable.Adjustment, 0, sellable.ErrZeroCount},
		{sellable.Reservation, 1, nil},
		{sellable.Reservation, 0, sellable.ErrNotPositive},
		{sellable.Reservation, -1, sellable.ErrNotPositive},
		{sellable.Adjustment, sellable.MaxCount + 1, sellable.ErrCountRange},
		{sellable.Reservation, -sellable.MaxCount - 1, sellable.ErrCountRange},
	}
	for _, c := range cases {
		if err := sellable.ValidateCount(c.kind, c.count); !errors.Is(err, c.want) {
			t.Errorf("ValidateCount(%v, %d) = %v, want %v", c.kind, c.count, err, c.want)
		}
	}
}

func TestQuantityAcceptsIntegersAndNumericStrings(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		set  bool
		err  bool
	}{
		{`100`, 100, true, false},
		{`"100"`, 100, true, false},
		{`"-5"`, -5, true, false},
		{`null`, 0, false, false},
		{`1.5`, 0, false, true},
		{`"1e3"`, 0, false, true},
		{`"abc"`, 0, false, true},
		{`true`, 0, false, true},
		{`"99999999999999999999"`, 0, false, true},
		{`"+5"`, 0, false, true},
		{`"05"`, 0, false, true},
		{`"-05"`, 0, false, true},
		{`" 5"`, 0, false, true},
		{`"-"`, 0, false, true},
		{`""`, 0, false, true},
		{`"0"`, 0, true, false},
		{`-0`, 0, true, false},
	}
	for _, c := range cases {
		var q sellable.Quantity
		err := json.Unmarshal([]byte(c.in), &q)
		if (err != nil) != c.err || q.Value != c.want || q.Set != c.set {
			t.Errorf("%s: got %+v, %v", c.in, q, err)
		}
	}
}
