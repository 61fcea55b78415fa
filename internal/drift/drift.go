package drift

import (
	"errors"
	"fmt"
	"log/slog"
)

// Change is one setting of a stream or bucket whose existing value differs
// from the wanted one.
type Change struct {
	// Resource names what holds the setting: "stream INVENTORY",
	// "bucket sellable_p0".
	Resource string
	// Setting is the name an operator knows it by: "replicas", "max_bytes".
	Setting string
	// Have and Want are the existing and the wanted value, as text.
	Have, Want string
	// Refuse, when set, is the sentinel error of a difference a process
	// must not start with; nil means it starts with what exists and warns.
	Refuse error
	// Upgrade marks a difference that only adds what this version needs
	// and takes nothing away (a stream subject, a stream feature): the
	// owner of the resource applies it at start rather than warn.
	Upgrade bool
}

func (c Change) String() string {
	return fmt.Sprintf("%s %s: existing %s, wanted %s", c.Resource, c.Setting, c.Have, c.Want)
}

// Err is the refusal of c, naming the setting and both values, or nil.
func (c Change) Err() error {
	if c.Refuse == nil {
		return nil
	}
	return fmt.Errorf("%w: %s", c.Refuse, c)
}

// Compare appends a change to cs when have and want differ.
func Compare[T comparable](cs []Change, resource, setting string, have, want T, refuse error) []Change {
	if have == want {
		return cs
	}
	return append(cs, Change{Resource: resource, Setting: setting, Have: fmt.Sprint(have), Want: fmt.Sprint(want), Refuse: refuse})
}

// Check is what a process does at start with the differences it found:
// it logs a warning for each one it can run with, and returns an error
// naming every one it cannot.
func Check(log *slog.Logger, cs []Change) error {
	var errs []error
	for _, c := range cs {
		if err := c.Err(); err != nil {
			errs = append(errs, err)
			continue
		}
		if c.Upgrade {
			continue
		}
		log.Warn("shared setting differs; running with the existing value (change it with `inventory admin apply`)",
			"resource", c.Resource, "setting", c.Setting, "existing", c.Have, "wanted", c.Want)
	}
	return errors.Join(errs...)
}

// Refused reports whether any change must not be applied.
func Refused(cs []Change) error {
	var errs []error
	for _, c := range cs {
		errs = append(errs, c.Err())
	}
	return errors.Join(errs...)
}
