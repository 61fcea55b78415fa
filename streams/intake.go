package streams

import (
	"slices"
	"strings"

	"github.com/sellable/inventory/sellable"
)

// Intake subjects carry events published straight onto NATS by a person
// (the publisher role) in a secured deployment: the publisher's account
// publishes inventory.<kind>.<loc>.<sku> and a shared service import
// delivers it to the inventory's account as
// inventory.intake.<kind>.<loc>.<sku>, with the server's own
// Nats-Request-Info naming the user. The intake relay (package intake)
// stores it on the event subject with that user as its source. No
// stream captures an intake subject (five tokens; the event stream takes
// four).
const intakeRoot = root + ".intake"

// IntakeFilter matches every intake subject.
const IntakeFilter = intakeRoot + ".>"

// IntakeKinds are the kinds a person may publish: the seed's two.
var IntakeKinds = []sellable.Kind{sellable.Adjustment, sellable.Reservation}

// IntakeSubjectFilter is where events of kind arrive in the inventory's
// account, the image of EventSubjectFilter(kind) in the publisher's.
func IntakeSubjectFilter(kind sellable.Kind) string {
	return intakeRoot + "." + kindToken(kind) + ".*.*"
}

// EventSubjectOfIntake is the event subject an intake subject stands
// for, and whether it is of one of IntakeKinds.
func EventSubjectOfIntake(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, intakeRoot+".")
	if !ok {
		return "", false
	}
	toks := strings.Split(rest, ".")
	if len(toks) != 3 {
		return "", false
	}
	// A key that does not decode is stored all the same, and dead
	// lettered, as it would be if published on the event subject.
	if kind, ok := kindOf(toks[0]); !ok || !slices.Contains(IntakeKinds, kind) {
		return "", false
	}
	return root + "." + rest, true
}
