package registry

import (
	"errors"
	"net/http"
)

// Sentinel errors. Store methods wrap them with %w and context; the HTTP
// layer maps them to Confluent's error codes in errorCode, and nowhere else.
var (
	// ErrSubjectNotFound means the subject has no registered versions.
	ErrSubjectNotFound = errors.New("subject not found")
	// ErrVersionNotFound means the subject exists but not that version.
	ErrVersionNotFound = errors.New("version not found")
	// ErrSchemaNotFound means no schema has that id, or the schema is not
	// registered under the subject.
	ErrSchemaNotFound = errors.New("schema not found")
	// ErrSubjectConfigNotFound means the subject has no compatibility level
	// of its own (it follows the global one).
	ErrSubjectConfigNotFound = errors.New("subject compatibility level not configured")
	// ErrInvalidSchema means a schema does not parse as Avro, or uses a
	// feature this registry does not support (other types, references).
	ErrInvalidSchema = errors.New("invalid schema")
	// ErrInvalidVersion means a version is neither a positive 32-bit
	// integer nor "latest".
	ErrInvalidVersion = errors.New("invalid version")
	// ErrInvalidLevel means an unknown compatibility level.
	ErrInvalidLevel = errors.New("invalid compatibility level")
	// ErrInvalidSubject means a subject name is empty, too long, not UTF-8
	// or holds control characters.
	ErrInvalidSubject = errors.New("invalid subject")
	// ErrIncompatible means a schema breaks the subject's compatibility
	// level against an earlier version.
	ErrIncompatible = errors.New("incompatible schema")
	// ErrContention means a compare-and-set kept losing to other writers
	// until the retry budget ran out. Retrying the request is safe.
	ErrContention = errors.New("too much write contention")
	// ErrCorrupt means the bucket holds something this package did not
	// write or that contradicts its invariants.
	ErrCorrupt = errors.New("corrupt registry data")
)

// Confluent error codes.
const (
	codeSubjectNotFound       = 40401
	codeVersionNotFound       = 40402
	codeSchemaNotFound        = 40403
	codeSubjectConfigNotFound = 40408
	codeInvalidSchema         = 42201
	codeInvalidVersion        = 42202
	codeInvalidLevel          = 42203
	codeInvalidSubject        = 42208
	codeIncompatible          = 409
	codeStore                 = 50001
	codeTimeout               = 50002
)

// errorCode maps an error to an HTTP status and a Confluent error_code.
// Anything unrecognised is a storage failure.
func errorCode(err error) (status, code int) {
	switch {
	case errors.Is(err, ErrSubjectNotFound):
		return http.StatusNotFound, codeSubjectNotFound
	case errors.Is(err, ErrVersionNotFound):
		return http.StatusNotFound, codeVersionNotFound
	case errors.Is(err, ErrSchemaNotFound):
		return http.StatusNotFound, codeSchemaNotFound
	case errors.Is(err, ErrSubjectConfigNotFound):
		return http.StatusNotFound, codeSubjectConfigNotFound
	case errors.Is(err, ErrInvalidSchema):
		return http.StatusUnprocessableEntity, codeInvalidSchema
	case errors.Is(err, ErrInvalidVersion):
		return http.StatusUnprocessableEntity, codeInvalidVersion
	case errors.Is(err, ErrInvalidLevel):
		return http.StatusUnprocessableEntity, codeInvalidLevel
	case errors.Is(err, ErrInvalidSubject):
		return http.StatusUnprocessableEntity, codeInvalidSubject
	case errors.Is(err, ErrIncompatible):
		return http.StatusConflict, codeIncompatible
	case errors.Is(err, ErrContention):
		return http.StatusInternalServerError, codeTimeout
	default:
		return http.StatusInternalServerError, codeStore
	}
}
