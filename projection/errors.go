package projection

import "errors"

var (
	// ErrConfig means a setting is missing or out of range.
	ErrConfig = errors.New("projection: invalid config")
	// ErrBadChange means a message of a view bucket's stream cannot be
	// projected whatever the retries: undecodable, or naming another
	// position than its key. The projector terminates it.
	ErrBadChange = errors.New("projection: bad sellable change")
	// ErrBadPageToken means a list page token that this service did not
	// hand out.
	ErrBadPageToken = errors.New("not a page token from this listing")
)
