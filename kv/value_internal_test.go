package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sellable/inventory/sellable"
)

var goldenPosition = sellable.Position{LocationID: "STL", SKU: "123123", Count: 90, OnHand: 100, Reserved: 10, Seq: 2,
	UpdatedAt: time.Date(2026, 11, 26, 21, 50, 24, 123456789, time.UTC)}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// testdata/value_unversioned.json holds the exact bytes the view was
// written with before values carried a version (json.Marshal of
// sellable.Position with its JSON tags, issue 9). Buckets full of them
// must still read.
func TestValueUnversionedStillReads(t *testing.T) {
	got, err := DecodeValue(readGolden(t, "value_unversioned.json"))
	if err != nil || got != goldenPosition {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, goldenPosition)
	}
}

// testdata/value_v1.json is what this version writes: a change of it is a
// change of the stored format, so it needs a new version.
func TestValueV1Golden(t *testing.T) {
	want := readGolden(t, "value_v1.json")
	got, err := EncodeValue(goldenPosition)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("stored value is\n%s\nwant\n%s", got, want)
	}
	back, err := DecodeValue(got)
	if err != nil || back != goldenPosition {
		t.Fatalf("round trip %+v, %v", back, err)
	}
}

func TestValueFromNewerVersionRefused(t *testing.T) {
	for _, data := range []string{`{"v":2,"locationId":"STL","sku":"1","count":1}`, `{"v":-1}`} {
		if _, err := DecodeValue([]byte(data)); !errors.Is(err, ErrValueVersion) {
			t.Errorf("%s: err = %v, want ErrValueVersion", data, err)
		}
	}
}

// valueV2 is a future layout that renames "count" to "sellable": what
// renaming a stored field looks like. Values of versions 0 and 1 already
// stored must read into it through the same decodeVersioned the package
// uses, with one upgrade that moves the field.
type valueV2 struct {
	V          int       `json:"v"`
	LocationID string    `json:"locationId"`
	SKU        string    `json:"sku"`
	Sellable   int64     `json:"sellable"`
	Adjusted   int64     `json:"adjusted"`
	Reserved   int64     `json:"reserved"`
	Seq        uint64    `json:"seq"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func (v valueV2) version() int { return v.V }

func TestValueRenameReadsOlderVersions(t *testing.T) {
	renameCount := func(obj map[string]json.RawMessage) error {
		obj["sellable"] = obj["count"]
		delete(obj, "count")
		return nil
	}
	upgrades := append(valueUpgrades[:len(valueUpgrades):len(valueUpgrades)], renameCount)
	for _, name := range []string{"value_unversioned.json", "value_v1.json"} {
		got, err := decodeVersioned[valueV2](readGolden(t, name), 2, upgrades)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Sellable != goldenPosition.Count || got.Adjusted != goldenPosition.OnHand || got.Seq != goldenPosition.Seq ||
			!got.UpdatedAt.Equal(goldenPosition.UpdatedAt) || got.LocationID != "STL" {
			t.Fatalf("%s read as %+v", name, got)
		}
	}
	// A value written in the new layout reads as it is.
	v2 := []byte(`{"v":2,"locationId":"STL","sku":"123123","sellable":90,"adjusted":100,"reserved":10,"seq":2,"updatedAt":"2026-11-26T21:50:24.123456789Z"}`)
	if got, err := decodeVersioned[valueV2](v2, 2, upgrades); err != nil || got.Sellable != 90 {
		t.Fatalf("v2 read as %+v, %v", got, err)
	}
}
