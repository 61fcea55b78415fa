// Package auth decides who a bearer token belongs to and what it may do:
// API keys kept as SHA-256 hashes in a file (re-read when it changes, so
// keys rotate without a restart) or in the environment, and JWTs verified
// with github.com/golang-jwt/jwt/v5 against public keys from a file or a
// JWKS URL. It knows nothing of HTTP routes: api maps each route to the
// Scope it needs and asks an Authenticator for the Principal behind the
// token. The principal's ID is what an event records as its source.
package auth
