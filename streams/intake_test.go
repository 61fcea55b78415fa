package streams_test

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/sellable/inventory/sellable"
	"github.com/sellable/inventory/streams"
)

// An intake subject stands for the event subject of the same kind and
// key, for the kinds a person may publish only; the filters agree.
func TestEventSubjectOfIntake(t *testing.T) {
	for subject, want := range map[string]string{
		"inventory.intake.adjustments.STL.123123":  "inventory.adjustments.STL.123123",
		"inventory.intake.reservations.STL.123123": "inventory.reservations.STL.123123",
		"inventory.intake.holds.STL.123123":        "",
		"inventory.intake.adjustments.STL":         "",
		"inventory.intake.adjustments.STL.1.2":     "",
		"inventory.adjustments.STL.123123":         "",
		"inventory.intake.sellable.STL.1":          "",
	} {
		got, ok := streams.EventSubjectOfIntake(subject)
		if got != want || ok != (want != "") {
			t.Errorf("EventSubjectOfIntake(%q) = %q, %v; want %q", subject, got, ok, want)
		}
	}
	for _, k := range streams.IntakeKinds {
		key := sellable.Key{LocationID: "STL", SKU: "1"}
		event := streams.EventSubject(k, key)
		intake := "inventory.intake." + event[len("inventory."):]
		if !server.SubjectMatchesFilter(intake, streams.IntakeSubjectFilter(k)) || !server.SubjectMatchesFilter(intake, streams.IntakeFilter) {
			t.Errorf("%s is not matched by the intake filters", intake)
		}
		if got, _ := streams.EventSubjectOfIntake(intake); got != event {
			t.Errorf("EventSubjectOfIntake(%q) = %q, want %q", intake, got, event)
		}
	}
}
