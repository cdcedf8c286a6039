package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// S2SValidator authenticates the gateway's server-to-server calls on the
// on-premises side, checking what [MS-XOAUTH] 3.2.5.6 lists: a signature by
// the trusted token service, its issuer, the three-part audience naming
// this host and the tenant, Exchange Online as the actor, the lifetime, and
// a user in "nameid".
type S2SValidator struct {
	keys          KeySet
	trustedIssuer string
	tenantID      string
	ownHost       string
	challenge     string
	now           func() time.Time
	cache         tokenCache
}

// Settings for the remote key set. The refresh interval follows the usual
// advice for Azure AD keys (refetch at least daily; hourly here because
// the token service is ours and restarts are cheap). An unknown "kid"
// triggers at most one extra fetch per five minutes. A request never
// sleeps on that limiter: when the next fetch is further away than
// jwksRateLimitWait, the limiter refuses at once and the token is refused.
// (The bound is a second, not less, so a busy scheduler does not turn a
// free fetch into a refusal.)
const (
	jwksRefreshInterval = time.Hour
	jwksHTTPTimeout     = 10 * time.Second
	jwksRateLimitWait   = time.Second
)

// remoteKeys is a KeySet backed by a JWKS URL, fetched and refreshed by
// keyfunc/jwkset.
type remoteKeys struct {
	kf keyfunc.Keyfunc
}

// PublicKey returns the RSA key with id kid meant for signatures.
func (k remoteKeys) PublicKey(ctx context.Context, kid string) (crypto.PublicKey, error) {
	jwk, err := k.kf.Storage().KeyRead(ctx, kid)
	if err != nil {
		return nil, fmt.Errorf("kid %q: %w: %w", kid, errUnknownKey, err)
	}
	m := jwk.Marshal()
	if m.USE != "" && m.USE != jwkset.UseSig {
		return nil, fmt.Errorf("kid %q has use %q, not sig", kid, m.USE)
	}
	if m.ALG != "" && m.ALG != jwkset.AlgRS256 {
		return nil, fmt.Errorf("kid %q has alg %q, not RS256", kid, m.ALG)
	}
	switch key := jwk.Key().(type) {
	case *rsa.PublicKey:
		return key, nil
	case *rsa.PrivateKey:
		return &key.PublicKey, nil
	default:
		return nil, fmt.Errorf("kid %q is %T, not an RSA key", kid, key)
	}
}

// NewS2SValidator returns a validator trusting tokens signed by a key from
// jwksURL whose "iss" is trustedIssuer, for tenant tenantID and addressed
// to ownHost (the host name clients use for this server's /api, as in
// mail.contoso.com). The key set is fetched now and refreshed in the
// background until ctx ends; if the first fetch fails the validator still
// starts and fetches again when a token arrives.
func NewS2SValidator(ctx context.Context, jwksURL, trustedIssuer, tenantID,
	ownHost string) (*S2SValidator, error) {
	if trustedIssuer == "" || tenantID == "" || ownHost == "" {
		return nil, errors.New("s2s validator needs an issuer, a tenant and a host")
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{jwksURL}, keyfunc.Override{
		HTTPTimeout:      jwksHTTPTimeout,
		RateLimitWaitMax: jwksRateLimitWait,
		RefreshInterval:  jwksRefreshInterval,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				slog.WarnContext(ctx, "refresh jwks", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks %s: %w", jwksURL, err)
	}
	return &S2SValidator{
		keys:          remoteKeys{kf: kf},
		trustedIssuer: trustedIssuer,
		tenantID:      tenantID,
		ownHost:       ownHost,
		challenge:     s2sChallenge(trustedIssuer, tenantID),
		now:           time.Now,
	}, nil
}

// s2sChallenge is on-prem Exchange's answer to a request without a usable
// token (exchange-hybrid.md §3.4): the partner application it expects, the
// issuers it trusts (ACS at the tenant), the token types it takes, and
// with hybrid modern authentication the authorize endpoint of the cloud.
func s2sChallenge(issuer, tenantID string) string {
	base := strings.TrimSuffix(issuer, "/"+tenantID+"/v2.0")
	return `Bearer client_id="` + ExchangeOnlineAppID + `", trusted_issuers="` +
		ACSPrincipalID + `@` + tenantID + `", token_types="app_asserted_user_v1 ` +
		`service_asserted_app_v1", authorization_uri="` + base + `/common/oauth2/authorize"`
}

// Authenticate checks the request's S2S token and returns a delegated
// principal for the user it names. Failures are 401
// InvalidAuthenticationToken with the on-prem challenge header; callers
// write them in the Outlook REST envelope.
func (v *S2SValidator) Authenticate(r *http.Request) (*Principal, error) {
	raw, err := BearerToken(r.Header)
	if err != nil {
		return nil, v.unauthorized(err)
	}
	c, err := v.cache.verify(r.Context(), raw, v.keys, v.trustedIssuer, v.now)
	if err != nil {
		return nil, v.unauthorized(err)
	}
	if err := v.checkAudience(c.Audience); err != nil {
		return nil, v.unauthorized(err)
	}
	if c.TenantID != "" && c.TenantID != v.tenantID {
		return nil, v.unauthorized(fmt.Errorf("token tenant %q: %w", c.TenantID, errTenant))
	}
	if c.AppID != ExchangeOnlineAppID {
		return nil, v.unauthorized(fmt.Errorf("appid %q: %w", c.AppID, errS2SActor))
	}
	upn := c.NameID
	if upn == "" {
		upn = c.UPN
	}
	if upn == "" {
		return nil, v.unauthorized(errS2SNoUser)
	}
	return &Principal{
		Delegated: true, UPN: upn, AppID: c.AppID, TenantID: v.tenantID,
		UserObjectID: c.ObjectID, Scopes: strings.Fields(c.Scope),
	}, nil
}

// checkAudience applies [MS-XOAUTH] 3.2.5.6 to "aud": exactly one value of
// the form client_id/hostname@realm, where client_id is Exchange Online's
// id (case-sensitive), hostname is this server (case-insensitive) and realm
// is the tenant (case-sensitive).
func (v *S2SValidator) checkAudience(aud []string) error {
	if len(aud) != 1 {
		return fmt.Errorf("%d audiences: %w", len(aud), errS2SAud)
	}
	client, host, realm, ok := ParseS2SAudience(aud[0])
	switch {
	case !ok:
		return fmt.Errorf("audience %q is not client_id/host@realm: %w", aud[0], errS2SAud)
	case client != ExchangeOnlineAppID:
		return fmt.Errorf("audience client %q: %w", client, errS2SAud)
	case !strings.EqualFold(host, v.ownHost):
		return fmt.Errorf("audience host %q is not %q: %w", host, v.ownHost, errS2SAud)
	case realm != v.tenantID:
		return fmt.Errorf("audience realm %q: %w: %w", realm, errTenant, errS2SAud)
	}
	return nil
}

// ParseS2SAudience splits a three-part audience "client_id/hostname@realm".
// The client id ends at the first "/", the realm starts after the last "@".
func ParseS2SAudience(aud string) (clientID, host, realm string, ok bool) {
	clientID, rest, found := strings.Cut(aud, "/")
	if !found {
		return "", "", "", false
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return "", "", "", false
	}
	host, realm = rest[:at], rest[at+1:]
	if clientID == "" || host == "" || realm == "" || strings.ContainsAny(host, "/@") {
		return "", "", "", false
	}
	return clientID, host, realm, true
}

func (v *S2SValidator) unauthorized(cause error) *httpserver.Error {
	e := httpserver.Wrap(cause, http.StatusUnauthorized, "InvalidAuthenticationToken",
		messageFor(cause))
	e.Header = http.Header{}
	e.Header.Set("WWW-Authenticate", v.challenge)
	return e
}
