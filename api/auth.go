package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/sellable/inventory/auth"
)

// Authenticator finds the principal behind a bearer token; errors wrap
// auth.ErrNoCredential or auth.ErrBadCredential.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Guard is what Protect enforces on a server.
type Guard struct {
	// Auth authenticates bearer tokens; nil leaves the server open (the
	// loopback default when no credential is configured).
	Auth Authenticator
	// Rate is the requests per second each principal may send to the
	// command routes (those needing inventory:adjust or
	// inventory:reserve), with bursts of Burst; 0 means no limit.
	Rate  float64
	Burst int
}

// realm names the protection space in WWW-Authenticate.
const realm = `Bearer realm="inventory"`

type principalKey struct{}

// PrincipalOf returns the principal a request was authenticated as; ok
// is false on a server without credentials configured.
func PrincipalOf(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// source is what an event records as who sent it: the principal's id,
// or nothing on an open server.
func source(c echo.Context) string {
	p, _ := PrincipalOf(c.Request().Context())
	return p.ID
}

// requireScope refuses the request when it was authenticated without
// scope; on an open server everything is allowed.
func requireScope(c echo.Context, scope auth.Scope) error {
	p, ok := PrincipalOf(c.Request().Context())
	if !ok || p.Has(scope) {
		return nil
	}
	return forbidden(c, scope)
}

// Protect makes every route of e need a bearer token with the scope
// RouteScopes gives it, and limits each principal's rate on the command
// routes. Call it once every route is registered. With g.Auth nil it
// changes nothing.
//
// 401 answers a missing or invalid token, 403 a token without the
// scope, 429 (with Retry-After) a principal over its rate; each with a
// JSON ErrorBody and, for 401 and 403, WWW-Authenticate (RFC 6750).
func Protect(e *echo.Echo, g Guard) {
	if g.Auth == nil {
		return
	}
	limits := newLimiter(g.Rate, g.Burst)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route := c.Request().Method + " " + c.Path()
			scope, listed := RouteScopes[route]
			if listed && scope == Open {
				return next(c)
			}
			p, err := authenticate(c, g.Auth)
			if err != nil {
				return err
			}
			req := c.Request()
			c.SetRequest(req.WithContext(context.WithValue(req.Context(), principalKey{}, p)))
			switch {
			case listed:
			case unmatched(c.Handler()):
				// 404 or 405: authenticated callers learn which.
				return next(c)
			default:
				// A route nobody assigned a scope to: refused until
				// someone does (RouteScopes).
				return echo.NewHTTPError(http.StatusForbidden, "route "+route+" has no scope assigned; it is refused")
			}
			if !p.Has(scope) {
				return forbidden(c, scope)
			}
			if scope == auth.ScopeAdjust || scope == auth.ScopeReserve {
				if wait, ok := limits.allow(p.ID); !ok {
					c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
					return echo.NewHTTPError(http.StatusTooManyRequests, fmt.Sprintf("rate limit of %s exceeded; retry after the Retry-After seconds", p.ID))
				}
			}
			return next(c)
		}
	})
}

// unmatched reports whether h is what Echo's router gives a request
// that matched no route (404) or no method of its path (405): running
// it runs nothing of ours. Anything else unlisted is refused, so a route
// registered at any time without a scope can never run.
func unmatched(h echo.HandlerFunc) bool {
	p := reflect.ValueOf(h).Pointer()
	return p == reflect.ValueOf(echo.NotFoundHandler).Pointer() || p == reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer()
}

// authenticate reads the bearer token of c.
func authenticate(c echo.Context, a Authenticator) (auth.Principal, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, _ := strings.Cut(h, " ")
	if h == "" {
		return auth.Principal{}, unauthorized(c, auth.ErrNoCredential, "")
	}
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return auth.Principal{}, unauthorized(c, auth.ErrBadCredential, "use Authorization: Bearer <token>")
	}
	p, err := a.Authenticate(c.Request().Context(), strings.TrimSpace(token))
	if errors.Is(err, auth.ErrKeysUnavailable) {
		// Not the client's fault: its token may well be good.
		return auth.Principal{}, echo.NewHTTPError(http.StatusServiceUnavailable, "the identity provider's keys cannot be fetched; retry later").SetInternal(err)
	}
	if err != nil {
		return auth.Principal{}, unauthorized(c, err, "")
	}
	return p, nil
}

func unauthorized(c echo.Context, err error, hint string) error {
	h := c.Response().Header()
	if errors.Is(err, auth.ErrNoCredential) {
		h.Set(echo.HeaderWWWAuthenticate, realm)
		return echo.NewHTTPError(http.StatusUnauthorized, "a bearer token is required: Authorization: Bearer <API key or JWT>")
	}
	if hint == "" {
		hint = "the bearer token is unknown, expired or invalid"
	}
	h.Set(echo.HeaderWWWAuthenticate, realm+`, error="invalid_token", error_description="`+hint+`"`)
	return echo.NewHTTPError(http.StatusUnauthorized, hint)
}

func forbidden(c echo.Context, scope auth.Scope) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, realm+`, error="insufficient_scope", scope="`+string(scope)+`"`)
	return echo.NewHTTPError(http.StatusForbidden, "this needs the scope "+string(scope))
}

// limiter is a token bucket per principal.
type limiter struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	by map[string]*rate.Limiter
}

// maxLimited bounds the principals tracked; past it the buckets start
// afresh (JWT subjects are not a fixed list).
const maxLimited = 100_000

func newLimiter(r float64, burst int) *limiter {
	if burst < 1 {
		burst = max(1, int(math.Ceil(r)))
	}
	return &limiter{rate: rate.Limit(r), burst: burst, by: map[string]*rate.Limiter{}}
}

// allow takes a token for id, or says how long until one is free.
func (l *limiter) allow(id string) (time.Duration, bool) {
	if l.rate <= 0 {
		return 0, true
	}
	l.mu.Lock()
	lim, ok := l.by[id]
	if !ok {
		if len(l.by) >= maxLimited {
			clear(l.by)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.by[id] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, false
	}
	return 0, true
}
