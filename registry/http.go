package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	registryapi "github.com/sellable/inventory/api/gen/registry"
)

// Media types Confluent speaks. Requests may use any of them; responses
// use the v1 type unless the client asks for plain JSON.
const (
	mediaTypeV1      = "application/vnd.schemaregistry.v1+json"
	mediaTypeDefault = "application/vnd.schemaregistry+json"
	mediaTypeJSON    = "application/json"
	mediaTypeOctet   = "application/octet-stream"
)

// maxBodyBytes bounds a request body; schemas are capped further by
// Config.MaxSchemaBytes after normalization.
const maxBodyBytes = 1 << 20

// Router is what Register mounts routes on: *echo.Echo or *echo.Group.
type Router = registryapi.EchoRouter

// Handler serves Confluent's REST API from a Store.
type Handler struct {
	store *Store
	log   *slog.Logger
}

// NewHandler returns a Handler; a nil logger discards.
func NewHandler(store *Store, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{store: store, log: logger}
}

// Register mounts the API at the router's root: /subjects, /schemas,
// /config, /compatibility, through the server generated from the
// operations tagged registry in api/openapi.yaml (api/gen/registry), so
// the routes are the document's. Errors are rendered in Confluent's
// format by the routes themselves (confluentErrors), whatever the
// server's HTTPErrorHandler does, and so are the generated wrapper's
// refusals of parameters it cannot bind.
func (h *Handler) Register(r Router) {
	registryapi.RegisterHandlers(withMiddleware{r, h.confluentErrors}, server{h})
}

// confluentErrors renders the error of a route, the generated wrapper's
// included, as Confluent does (wrap). A schema id that is not a number
// is an unknown schema (404 40403), as Confluent answers it, where the
// wrapper says 400.
func (h *Handler) confluentErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return h.wrap(func(c echo.Context) error {
		err := next(c)
		var he *echo.HTTPError
		if errors.As(err, &he) && he.Code == http.StatusBadRequest && slices.Contains(c.ParamNames(), "id") &&
			strings.HasPrefix(fmt.Sprint(he.Message), "Invalid format for parameter id") {
			return fmt.Errorf("id %q: %w", c.Param("id"), ErrSchemaNotFound)
		}
		return err
	})
}

// withMiddleware is a Router that adds mw to every route mounted on it.
type withMiddleware struct {
	Router
	mw echo.MiddlewareFunc
}

func (w withMiddleware) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return w.Router.GET(path, h, append(m, w.mw)...)
}

func (w withMiddleware) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return w.Router.POST(path, h, append(m, w.mw)...)
}

func (w withMiddleware) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return w.Router.PUT(path, h, append(m, w.mw)...)
}

func (w withMiddleware) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return w.Router.DELETE(path, h, append(m, w.mw)...)
}

func (w withMiddleware) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return w.Router.PATCH(path, h, append(m, w.mw)...)
}

// server implements the generated registryapi.ServerInterface. The
// handlers read their parameters from the context themselves (pathParam,
// parseVersion): Confluent's rules for them (a version is 1 to 2^31-1,
// "latest" or -1) and its error codes are theirs.
type server struct{ h *Handler }

var _ registryapi.ServerInterface = server{}

func (s server) RegistrySubjects(c echo.Context) error { return s.h.subjects(c) }

func (s server) RegistryLookup(c echo.Context, _ registryapi.Subject) error { return s.h.lookup(c) }

func (s server) RegistryVersions(c echo.Context, _ registryapi.Subject) error { return s.h.versions(c) }

func (s server) RegistryRegister(c echo.Context, _ registryapi.Subject) error { return s.h.register(c) }

func (s server) RegistryVersion(c echo.Context, _ registryapi.Subject, _ registryapi.Version) error {
	return s.h.version(c)
}

func (s server) RegistryVersionSchema(c echo.Context, _ registryapi.Subject, _ registryapi.Version) error {
	return s.h.versionSchema(c)
}

func (s server) RegistrySchemaByID(c echo.Context, _ registryapi.SchemaID) error {
	return s.h.schemaByID(c)
}

func (s server) RegistryRawSchemaByID(c echo.Context, _ registryapi.SchemaID) error {
	return s.h.rawSchemaByID(c)
}

func (s server) RegistrySchemaTypes(c echo.Context) error { return s.h.schemaTypes(c) }

func (s server) RegistryGlobalConfig(c echo.Context) error { return s.h.globalConfig(c) }

func (s server) RegistrySetGlobalConfig(c echo.Context) error { return s.h.setGlobalConfig(c) }

func (s server) RegistrySubjectConfig(c echo.Context, _ registryapi.Subject, _ registryapi.RegistrySubjectConfigParams) error {
	return s.h.subjectConfig(c)
}

func (s server) RegistrySetSubjectConfig(c echo.Context, _ registryapi.Subject) error {
	return s.h.setSubjectConfig(c)
}

func (s server) RegistryCompatibilityAll(c echo.Context, _ registryapi.Subject, _ registryapi.RegistryCompatibilityAllParams) error {
	return s.h.compatibility(c)
}

func (s server) RegistryCompatibility(c echo.Context, _ registryapi.Subject, _ registryapi.Version, _ registryapi.RegistryCompatibilityParams) error {
	return s.h.compatibility(c)
}

// Request and response bodies, as Confluent spells them.
type (
	schemaRequest struct {
		Schema     string            `json:"schema"`
		SchemaType string            `json:"schemaType,omitempty"`
		References []json.RawMessage `json:"references,omitempty"`
	}
	idResponse struct {
		ID int `json:"id"`
	}
	versionResponse struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
		ID      int    `json:"id"`
		Schema  string `json:"schema"`
	}
	schemaResponse struct {
		Schema string `json:"schema"`
	}
	// configResponse carries both spellings: Confluent's GET answers
	// compatibilityLevel, while hamba's client reads compatibility.
	configResponse struct {
		CompatibilityLevel Level `json:"compatibilityLevel"`
		Compatibility      Level `json:"compatibility"`
	}
	// configRequest keeps both spellings raw, so that a spelling given
	// with a wrong value (or null) is refused rather than ignored.
	configRequest struct {
		Compatibility      json.RawMessage `json:"compatibility"`
		CompatibilityLevel json.RawMessage `json:"compatibilityLevel"`
	}
	configUpdateResponse struct {
		Compatibility Level `json:"compatibility"`
	}
	compatibilityResponse struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages,omitempty"`
	}
	errorResponse struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
)

func (h *Handler) subjects(c echo.Context) error {
	subjects, err := h.store.Subjects(c.Request().Context())
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, subjects)
}

func (h *Handler) versions(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	versions, err := h.store.Versions(c.Request().Context(), subject)
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, versions)
}

func (h *Handler) register(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	req, err := decodeSchemaRequest(c)
	if err != nil {
		return err
	}
	sv, err := h.store.Register(c.Request().Context(), subject, req.Schema)
	if err != nil {
		return err
	}
	h.log.Info("schema registered", "subject", sv.Subject, "version", sv.Version, "id", sv.ID)
	return reply(c, http.StatusOK, idResponse{ID: sv.ID})
}

func (h *Handler) version(c echo.Context) error {
	sv, err := h.lookupVersion(c)
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, versionResponse(sv))
}

func (h *Handler) versionSchema(c echo.Context) error {
	sv, err := h.lookupVersion(c)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, responseType(c), []byte(sv.Schema))
}

func (h *Handler) lookupVersion(c echo.Context) (SchemaVersion, error) {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return SchemaVersion{}, err
	}
	version, err := parseVersion(c.Param("version"))
	if err != nil {
		return SchemaVersion{}, err
	}
	return h.store.Version(c.Request().Context(), subject, version)
}

func (h *Handler) lookup(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	req, err := decodeSchemaRequest(c)
	if err != nil {
		return err
	}
	sv, err := h.store.Lookup(c.Request().Context(), subject, req.Schema)
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, versionResponse(sv))
}

func (h *Handler) schemaByID(c echo.Context) error {
	schema, err := h.schemaParam(c)
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, schemaResponse{Schema: schema})
}

func (h *Handler) rawSchemaByID(c echo.Context) error {
	schema, err := h.schemaParam(c)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, responseType(c), []byte(schema))
}

func (h *Handler) schemaParam(c echo.Context) (string, error) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 1 {
		return "", fmt.Errorf("id %q: %w", c.Param("id"), ErrSchemaNotFound)
	}
	return h.store.SchemaByID(c.Request().Context(), id)
}

func (h *Handler) schemaTypes(c echo.Context) error {
	return reply(c, http.StatusOK, []string{schemaTypeAvro})
}

func (h *Handler) globalConfig(c echo.Context) error {
	l, err := h.store.GlobalLevel(c.Request().Context())
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, configResponse{CompatibilityLevel: l, Compatibility: l})
}

func (h *Handler) setGlobalConfig(c echo.Context) error {
	l, err := decodeLevel(c)
	if err != nil {
		return err
	}
	if err := h.store.SetGlobalLevel(c.Request().Context(), l); err != nil {
		return err
	}
	h.log.Info("global compatibility set", "level", l)
	return reply(c, http.StatusOK, configUpdateResponse{Compatibility: l})
}

func (h *Handler) subjectConfig(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var l Level
	if c.QueryParam("defaultToGlobal") == "true" {
		l, err = h.store.Level(ctx, subject)
	} else {
		l, err = h.store.SubjectLevel(ctx, subject)
	}
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, configResponse{CompatibilityLevel: l, Compatibility: l})
}

func (h *Handler) setSubjectConfig(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	l, err := decodeLevel(c)
	if err != nil {
		return err
	}
	if err := h.store.SetSubjectLevel(c.Request().Context(), subject, l); err != nil {
		return err
	}
	h.log.Info("subject compatibility set", "subject", subject, "level", l)
	return reply(c, http.StatusOK, configUpdateResponse{Compatibility: l})
}

func (h *Handler) compatibility(c echo.Context) error {
	subject, err := pathParam(c, "subject")
	if err != nil {
		return err
	}
	version := 0
	if v := c.Param("version"); v != "" {
		if version, err = parseVersion(v); err != nil {
			return err
		}
	}
	req, err := decodeSchemaRequest(c)
	if err != nil {
		return err
	}
	err = h.store.CheckCompatibility(c.Request().Context(), subject, req.Schema, version)
	if errors.Is(err, ErrIncompatible) {
		resp := compatibilityResponse{IsCompatible: false}
		if c.QueryParam("verbose") == "true" {
			resp.Messages = []string{err.Error()}
		}
		return reply(c, http.StatusOK, resp)
	}
	if err != nil {
		return err
	}
	return reply(c, http.StatusOK, compatibilityResponse{IsCompatible: true})
}

// wrap renders a route's error as Confluent does: {"error_code","message"}.
// Internal details of storage failures stay in the log.
func (h *Handler) wrap(fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := fn(c)
		if err == nil {
			return nil
		}
		var he *echo.HTTPError
		var status, code int
		msg := err.Error()
		if errors.As(err, &he) {
			status, code, msg = he.Code, he.Code, fmt.Sprint(he.Message)
		} else {
			status, code = errorCode(err)
		}
		if status >= http.StatusInternalServerError {
			h.log.Error("registry request failed",
				"method", c.Request().Method, "path", c.Request().URL.Path, "error_code", code, "err", err)
			msg = http.StatusText(status)
			if code == codeStore {
				msg = "Error in the backend data store"
			}
		}
		return reply(c, status, errorResponse{ErrorCode: code, Message: msg})
	}
}

// reply writes v as JSON in the media type the client asked for.
func reply(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, responseType(c), b)
}

// responseType picks the first acceptable media type in the Accept
// header, preferring Confluent's own.
func responseType(c echo.Context) string {
	for part := range strings.SplitSeq(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaTypeV1, mediaTypeDefault, "*/*", "application/*":
			return mediaTypeV1
		case mediaTypeJSON:
			return mediaTypeJSON
		}
	}
	return mediaTypeV1
}

// decodeSchemaRequest reads a {"schema":…} body. Content types are
// checked by hand: Echo's Bind does not know Confluent's.
func decodeSchemaRequest(c echo.Context) (schemaRequest, error) {
	var req schemaRequest
	if err := decodeBody(c, &req); err != nil {
		return req, err
	}
	if req.SchemaType != "" && !strings.EqualFold(req.SchemaType, schemaTypeAvro) {
		return req, fmt.Errorf("%w: schema type %q not supported, only %s", ErrInvalidSchema, req.SchemaType, schemaTypeAvro)
	}
	if len(req.References) > 0 {
		return req, fmt.Errorf("%w: schema references are not supported", ErrInvalidSchema)
	}
	return req, nil
}

func decodeLevel(c echo.Context) (Level, error) {
	var req configRequest
	if err := decodeBody(c, &req); err != nil {
		return "", err
	}
	// Either spelling names the level, compatibility winning when both do
	// (as before). Each one given must be a level: a typo in the spelling
	// that loses is refused, not silently ignored.
	var level Level
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"compatibility", req.Compatibility}, {"compatibilityLevel", req.CompatibilityLevel}} {
		if f.raw == nil {
			continue
		}
		var s string
		if string(f.raw) == "null" || json.Unmarshal(f.raw, &s) != nil {
			return "", fmt.Errorf("%w: %s must be a string", ErrInvalidLevel, f.name)
		}
		l, err := ParseLevel(s)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.name, err)
		}
		if level == "" {
			level = l
		}
	}
	if level == "" {
		return "", fmt.Errorf("%w: neither compatibility nor compatibilityLevel given", ErrInvalidLevel)
	}
	return level, nil
}

func decodeBody(c echo.Context, v any) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "bad content type").SetInternal(err)
		case mt != mediaTypeV1 && mt != mediaTypeDefault && mt != mediaTypeJSON && mt != mediaTypeOctet:
			return echo.NewHTTPError(http.StatusUnsupportedMediaType, "unsupported content type "+mt)
		}
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxBodyBytes)
	if err := json.NewDecoder(body).Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large").SetInternal(err)
		}
		return echo.NewHTTPError(http.StatusBadRequest, "malformed JSON body: "+err.Error()).SetInternal(err)
	}
	return nil
}

// pathParam returns a path parameter decoded. Echo routes on the raw path
// when the URL has escapes that change its meaning (such as %2F), and then
// leaves the parameter escaped.
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidSubject, err)
	}
	return u, nil
}

// parseVersion accepts Confluent's version ids: 1..2^31-1, "latest", -1.
func parseVersion(s string) (int, error) {
	if s == "latest" || s == "-1" {
		return Latest, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %q: allowed values are 1 to %d and \"latest\"", ErrInvalidVersion, s, math.MaxInt32)
	}
	return n, nil
}
