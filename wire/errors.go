package wire

import "errors"

var (
	// ErrDecode means a message body could not be decoded.
	ErrDecode = errors.New("cannot decode")
	// ErrMismatch means a message body names another key than its subject.
	ErrMismatch = errors.New("body does not match subject")
	// ErrSchemaNotFound means the registry has no schema with an id. A
	// SchemaRegistry wraps it; a codec turns it into ErrDecode, since a
	// message naming such an id can never be read.
	ErrSchemaNotFound = errors.New("schema not found")
	// ErrSchemaRejected means the registry refused to register a schema
	// (invalid, or incompatible with the subject's earlier versions).
	// Retrying does not help.
	ErrSchemaRejected = errors.New("schema rejected by the registry")
	// ErrRegistry means the registry could not be asked for a writer
	// schema. The message may well be good: retry rather than dead-letter.
	ErrRegistry = errors.New("schema registry unavailable")
	// ErrSchemaBounds means a writer schema is outside SchemaBounds: the
	// registry refuses it under the event subjects, and a codec refuses
	// (ErrDecode) every message written with it.
	ErrSchemaBounds = errors.New("schema out of bounds")
)
