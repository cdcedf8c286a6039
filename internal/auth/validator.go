package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Leeway is the clock skew tolerated on exp, nbf and iat. It is small on
// purpose: the issuer and the validators run on the same or neighbouring
// machines. (Microsoft's own libraries default to five minutes.)
const Leeway = 30 * time.Second

// maxTokenBytes bounds the bearer token. Azure AD tokens are a few KB;
// anything past this is not one of ours.
const maxTokenBytes = 16 << 10

// Principal is the authenticated caller of a request.
type Principal struct {
	// Delegated is true when the token acts for a signed-in user (it has
	// "scp"); false for an application acting as itself ("roles").
	Delegated bool
	// UserObjectID is the user's directory object id ("oid"), delegated only.
	UserObjectID string
	// UPN is the user's principal name, delegated and S2S only.
	UPN string
	// AppID is the calling application's client id ("appid"/"azp").
	AppID string
	// TenantID is the token's tenant ("tid").
	TenantID string
	// Scopes are the delegated permissions ("scp", split on spaces).
	Scopes []string
	// Roles are the application permissions ("roles").
	Roles []string
}

// tokenClaims is what the validators read from a token.
type tokenClaims struct {
	jwt.RegisteredClaims
	TenantID          string   `json:"tid"`
	ObjectID          string   `json:"oid"`
	UPN               string   `json:"upn"`
	PreferredUsername string   `json:"preferred_username"`
	NameID            string   `json:"nameid"`
	Scope             string   `json:"scp"`
	Roles             []string `json:"roles"`
	AppID             string   `json:"appid"`
	AuthorizedParty   string   `json:"azp"`
	IDType            string   `json:"idtyp"`
}

// Validator authenticates Graph requests: RS256 tokens from the local
// token service whose audience is Graph and whose tenant is ours.
type Validator struct {
	keys      KeySet
	issuer    string
	tenantID  string
	audiences []string
	challenge string
	now       func() time.Time
	cache     tokenCache
}

// NewValidator returns a Validator for tokens signed by a key in keys
// (normally the token service's *Key) with the given issuer and tenant.
// An empty audiences list accepts Graph's two names: its URI and its
// application id.
func NewValidator(keys KeySet, issuer, tenantID string, audiences []string) *Validator {
	if len(audiences) == 0 {
		audiences = []string{GraphResource, GraphAppID}
	}
	return &Validator{
		keys: keys, issuer: issuer, tenantID: tenantID,
		audiences: slices.Clone(audiences), challenge: graphChallenge(issuer, tenantID),
		now: time.Now,
	}
}

// graphChallenge is Graph's WWW-Authenticate value (graph-api.md §5, the
// InvalidAuthenticationToken row), pointing at this token service instead
// of login.microsoftonline.com.
func graphChallenge(issuer, tenantID string) string {
	base := strings.TrimSuffix(issuer, "/"+tenantID+"/v2.0")
	if base == issuer {
		if u, err := url.Parse(issuer); err == nil {
			base = u.Scheme + "://" + u.Host
		}
	}
	return `Bearer realm="", authorization_uri="` + base + `/common/oauth2/authorize", ` +
		`client_id="` + GraphAppID + `"`
}

// Authenticate checks the request's bearer token and returns its caller.
// Every failure is a 401 InvalidAuthenticationToken with Graph's challenge
// header; the precise reason is in the error's Cause for the log.
func (v *Validator) Authenticate(r *http.Request) (*Principal, error) {
	raw, err := BearerToken(r.Header)
	if err != nil {
		return nil, v.unauthorized(err)
	}
	c, err := v.cache.verify(r.Context(), raw, v.keys, v.issuer, v.now,
		jwt.WithAudience(v.audiences...))
	if err != nil {
		return nil, v.unauthorized(err)
	}
	if c.TenantID != v.tenantID {
		return nil, v.unauthorized(fmt.Errorf("token tenant %q: %w", c.TenantID, errTenant))
	}
	p := principalOf(c)
	if p.Delegated && p.UserObjectID == "" {
		return nil, v.unauthorized(errors.New("delegated token without oid"))
	}
	return p, nil
}

func principalOf(c *tokenClaims) *Principal {
	p := &Principal{
		UserObjectID: c.ObjectID,
		UPN:          c.UPN,
		AppID:        c.AppID,
		TenantID:     c.TenantID,
		Scopes:       strings.Fields(c.Scope),
		Roles:        slices.Clone(c.Roles),
	}
	if p.AppID == "" {
		p.AppID = c.AuthorizedParty
	}
	if p.UPN == "" {
		p.UPN = c.PreferredUsername
	}
	// Azure AD's rule for telling the two apart: an app-only token has no
	// "scp" (and says "idtyp":"app" when asked to). A token with neither
	// scopes nor roles speaks for its user with no permission at all, so
	// every call with it is refused with 403, not mistaken for an app.
	app := c.IDType == "app" || (c.Scope == "" && len(c.Roles) > 0)
	p.Delegated = !app
	if !p.Delegated {
		p.UserObjectID, p.UPN, p.Scopes = "", "", nil
	}
	return p
}

func (v *Validator) unauthorized(cause error) *httpserver.Error {
	e := httpserver.Wrap(cause, http.StatusUnauthorized, "InvalidAuthenticationToken",
		messageFor(cause))
	e.Header = http.Header{}
	e.Header.Set("WWW-Authenticate", v.challenge)
	return e
}

// Reasons a token is refused, beyond golang-jwt's own.
var (
	errNoToken    = errors.New("no bearer token")
	errNotBearer  = errors.New("authorization scheme is not Bearer")
	errBadToken   = errors.New("bearer token is not a compact JWS")
	errTenant     = errors.New("token is for another tenant")
	errAlgorithm  = errors.New("signing algorithm is not RS256")
	errS2SAud     = errors.New("invalid s2s audience")
	errS2SActor   = errors.New("token actor is not Exchange Online")
	errS2SNoUser  = errors.New("s2s token names no user")
	errNoKeyIDHdr = errors.New("token header has no kid")
)

// messageFor maps a validation failure to Graph's client message
// (graph-api.md §5, InvalidAuthenticationToken). The checks run in the
// order golang-jwt applies them, so one cause wins.
func messageFor(err error) string {
	switch {
	case errors.Is(err, errNoToken):
		return "Access token is empty."
	case errors.Is(err, errNotBearer):
		return "Access token is empty. The Authorization header must use the Bearer scheme."
	case errors.Is(err, errBadToken), errors.Is(err, jwt.ErrTokenMalformed):
		// Graph's words for a token it cannot even parse.
		return "CompactToken parsing failed with error code: 80049217"
	case errors.Is(err, errAlgorithm):
		return "Access token validation failure. Unsupported signing algorithm."
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "Invalid signature."
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenNotValidYet),
		errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "Access token has expired or is not yet valid."
	case errors.Is(err, jwt.ErrTokenInvalidAudience), errors.Is(err, errS2SAud):
		return "Access token validation failure. Invalid audience."
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "Access token validation failure. Invalid issuer."
	case errors.Is(err, errTenant):
		return "Access token validation failure. Invalid tenant."
	}
	return "Access token validation failure."
}

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header (RFC 6750 section 2.1). The scheme is matched without regard to
// case (RFC 9110 section 11.1); the token must be one token68 value of at
// most 16 KiB, and the header must appear once.
func BearerToken(h http.Header) (string, error) {
	vals := h.Values("Authorization")
	if len(vals) == 0 {
		return "", errNoToken
	}
	if len(vals) > 1 {
		return "", fmt.Errorf("%d Authorization headers: %w", len(vals), errBadToken)
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		if scheme == "" {
			return "", errNoToken
		}
		return "", errNotBearer
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", errNoToken
	}
	if len(token) > maxTokenBytes || !isToken68(token) {
		return "", errBadToken
	}
	return token, nil
}

// isToken68 checks RFC 9110 section 11.2's token68 grammar:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~+/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// verify parses raw, checks its RS256 signature against keys, and checks
// iss, exp (required), nbf and iat with Leeway; opts add checks.
func verify(ctx context.Context, raw string, keys KeySet, issuer string,
	now func() time.Time, opts ...jwt.ParserOption) (*tokenClaims, error) {
	opts = append(opts,
		// Only RS256: this refuses "none", and HS256 keyed with the public
		// key (the classic algorithm confusion attack, RFC 8725 2.1).
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(now),
	)
	var c tokenClaims
	tok, err := jwt.NewParser(opts...).ParseWithClaims(raw, &c,
		func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			if kid == "" {
				return nil, errNoKeyIDHdr
			}
			return keys.PublicKey(ctx, kid)
		})
	if err != nil {
		if tok != nil && !errors.Is(err, jwt.ErrTokenMalformed) {
			if alg, _ := tok.Header["alg"].(string); alg != "RS256" {
				return nil, fmt.Errorf("alg %q: %w: %w", alg, errAlgorithm, err)
			}
		}
		return nil, fmt.Errorf("verify token: %w", err)
	}
	return &c, nil
}
