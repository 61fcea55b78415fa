// Package registry is a Confluent-Schema-Registry-compatible subset backed by
// one JetStream KV bucket, so that event producers and consumers (and
// hamba/avro's own registry client) can register and fetch the Avro schemas
// of the events (wire/schemas) without running Confluent's registry.
//
// In the data flow it sits beside the codecs: Local lets the wire codecs
// use a Store in the same process (every program opens the bucket itself),
// Client reaches one over HTTP, and Handler serves the HTTP API.
//
// Store holds the state and all concurrency control: schema ids come from a
// compare-and-set counter, a schema's id is claimed by creating its
// fingerprint key, and every subject is one KV entry updated by
// compare-and-set on its revision, so any number of registry instances can
// share a bucket without ever handing out an id or a version twice. Handler
// maps Confluent's HTTP API onto a Store and can be mounted on any Echo
// server at the root paths; its routes are the server generated from the
// operations tagged registry in api/openapi.yaml (api/gen/registry).
//
// Under the inventory's own subjects (wire.Schemas) a schema must also
// be within wire.SchemaBounds, the bounds the inventory's decoders
// read within; other subjects take any valid Avro.
//
// KV key layout (bucket "schema_registry" by default):
//
//	ids.last                   last schema id handed out (decimal), CAS counter
//	fingerprints.<sha256 hex>  id of a normalized schema; created once, it claims the id
//	ids.<id>                   {"schema":"<normalized>","schemaType":"AVRO"}, created once
//	subjects.<token>           {"subject":"…","versions":[{"version":1,"id":7},…]}
//	config.global              {"compatibilityLevel":"BACKWARD"}
//	config.subjects.<token>    {"compatibilityLevel":"…"}
//
// <token> is the subject name encoded by streams.EncodeToken.
package registry
