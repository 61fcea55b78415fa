package auth

import (
	"errors"
	"slices"
)

// Scope is a right a principal holds.
type Scope string

// The scopes, as API keys and JWT scope claims spell them.
const (
	// ScopeAdjust: adjustments, batches and counts.
	ScopeAdjust Scope = "inventory:adjust"
	// ScopeReserve: reservations and their lifecycle.
	ScopeReserve Scope = "inventory:reserve"
	// ScopeRead: every query, the registry's reads, status and metrics.
	ScopeRead Scope = "inventory:read"
	// ScopeRegistryWrite: registering schemas and changing the registry's
	// compatibility settings.
	ScopeRegistryWrite Scope = "registry:write"
	// ScopeAdmin holds every other scope.
	ScopeAdmin Scope = "admin"
)

// Scopes lists every scope, in the order the README gives them.
var Scopes = []Scope{ScopeAdjust, ScopeReserve, ScopeRead, ScopeRegistryWrite, ScopeAdmin}

// Known reports whether s is one of Scopes.
func (s Scope) Known() bool { return slices.Contains(Scopes, s) }

// MaxIDLength bounds a principal's id, which every event it sends
// records as its source (sellable.MaxSourceLength).
const MaxIDLength = 256

// Principal is an authenticated caller: an API key's id or a JWT's
// subject, and the scopes it holds.
type Principal struct {
	ID     string
	Scopes []Scope
}

// Has reports whether p may act within scope; admin may do anything.
func (p Principal) Has(scope Scope) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, ScopeAdmin)
}

var (
	// ErrNoCredential means a request carried no bearer token.
	ErrNoCredential = errors.New("auth: no bearer token")
	// ErrBadCredential means a token that is unknown, malformed, expired,
	// not yet valid, for another audience or badly signed.
	ErrBadCredential = errors.New("auth: invalid bearer token")
	// ErrKeysUnavailable means a JWT could not be checked: the JWKS has
	// never been fetched and cannot be now. The token may be good; retry.
	ErrKeysUnavailable = errors.New("auth: JWT verification keys unavailable")
)
