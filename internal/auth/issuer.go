package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Well-known identifiers. The first three are Microsoft's first-party
// application ids (exchange-hybrid.md §3.3); hybridgraph uses them so that
// tokens look to peers as Azure AD's do.
const (
	// GraphAppID is Microsoft Graph's application id, the client_id in
	// Graph's WWW-Authenticate challenge.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// ExchangeOnlineAppID is "Office 365 Exchange Online", the actor of
	// server-to-server calls to on-premises Exchange.
	ExchangeOnlineAppID = "00000002-0000-0ff1-ce00-000000000000"
	// ACSPrincipalID is the Azure ACS auth server identity that on-prem
	// Exchange names in trusted_issuers.
	ACSPrincipalID = "00000001-0000-0000-c000-000000000000"
	// GraphResource is the audience of Graph access tokens.
	GraphResource = "https://graph.microsoft.com"
	// CLIAppID is hybridgraph's own first-party public client, the "appid"
	// of the delegated tokens it issues (hybridgraph token, tests).
	CLIAppID = "8f3c2b71-5e4a-4d69-b0c8-2a7e91d4f605"
)

// DefaultTokenTTL is the lifetime of client-credentials tokens; Azure AD's
// default access token lifetime is about an hour.
const DefaultTokenTTL = time.Hour

// User is the signed-in user a delegated or S2S token speaks for.
type User struct {
	ObjectID    string
	UPN         string
	DisplayName string
}

// Issuer mints tokens shaped like Azure AD v2.0 access tokens and serves
// the token endpoint, discovery document and JWK Set (Handler).
type Issuer struct {
	// Key signs every token.
	Key *Key
	// TenantID is the tenant GUID: the "tid" claim and part of the issuer.
	TenantID string
	// Domains are the organisation's domain names, accepted in place of
	// TenantID in endpoint paths (as login.microsoftonline.com accepts
	// contoso.onmicrosoft.com).
	Domains []string
	// BaseURL is the token service's root, such as http://127.0.0.1:5080,
	// without a trailing slash.
	BaseURL string
	// Apps holds the registered confidential clients.
	Apps *AppRegistry
	// TokenTTL is the lifetime of client-credentials tokens; zero means
	// DefaultTokenTTL.
	TokenTTL time.Duration
	// Now returns the current time; nil means time.Now. Tests set it.
	Now func() time.Time
	// Log receives refused token requests (at info) and faults (at error);
	// nil means slog.Default(). Secrets and tokens are never logged.
	Log *slog.Logger
}

func (i *Issuer) log() *slog.Logger {
	if i.Log != nil {
		return i.Log
	}
	return slog.Default()
}

// IssuerURL returns the "iss" of every token: BaseURL/{tenant}/v2.0, the
// Microsoft identity platform v2.0 form.
func (i *Issuer) IssuerURL() string {
	return IssuerURL(i.BaseURL, i.TenantID)
}

// IssuerURL returns the issuer string for a token service at baseURL.
func IssuerURL(baseURL, tenantID string) string {
	return strings.TrimSuffix(baseURL, "/") + "/" + tenantID + "/v2.0"
}

// JWKSURL returns the address of the JWK Set.
func (i *Issuer) JWKSURL() string {
	return strings.TrimSuffix(i.BaseURL, "/") + "/" + i.TenantID + "/discovery/v2.0/keys"
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// issuedClaims is what the issuer signs. Field names are Azure AD's access
// token claims (Microsoft identity platform "access token claims
// reference"); numeric dates are seconds since the epoch (RFC 7519 2).
type issuedClaims struct {
	Audience          string   `json:"aud"`
	Issuer            string   `json:"iss"`
	IssuedAt          int64    `json:"iat"`
	NotBefore         int64    `json:"nbf"`
	Expiry            int64    `json:"exp"`
	TenantID          string   `json:"tid"`
	ObjectID          string   `json:"oid,omitempty"`
	Subject           string   `json:"sub,omitempty"`
	UPN               string   `json:"upn,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Name              string   `json:"name,omitempty"`
	NameID            string   `json:"nameid,omitempty"`
	Scope             string   `json:"scp,omitempty"`
	Roles             []string `json:"roles,omitempty"`
	AppID             string   `json:"appid"`
	AuthorizedParty   string   `json:"azp"`
	Actor             string   `json:"actor,omitempty"`
	IDType            string   `json:"idtyp"`
	Version           string   `json:"ver"`
	UTI               string   `json:"uti"`
	JTI               string   `json:"jti"`
}

// base fills the claims every token shares.
func (i *Issuer) base(aud string, ttl time.Duration) (issuedClaims, error) {
	if i.Key == nil || i.TenantID == "" || i.BaseURL == "" {
		return issuedClaims{}, errors.New("issuer needs Key, TenantID and BaseURL")
	}
	if ttl <= 0 {
		return issuedClaims{}, fmt.Errorf("token lifetime %v is not positive", ttl)
	}
	now := i.now().Unix()
	id := uuid.NewString()
	return issuedClaims{
		Audience: aud, Issuer: i.IssuerURL(), TenantID: i.TenantID,
		IssuedAt: now, NotBefore: now, Expiry: now + int64(ttl/time.Second),
		Version: "2.0", UTI: id, JTI: id,
	}, nil
}

// DelegatedToken issues a Graph access token acting for user u with the
// given delegated scopes, as if u had signed in to hybridgraph's CLI app.
func (i *Issuer) DelegatedToken(u User, scopes []string, ttl time.Duration) (string, error) {
	if u.ObjectID == "" || u.UPN == "" {
		return "", errors.New("delegated token needs the user's object id and UPN")
	}
	if len(scopes) == 0 {
		return "", errors.New("delegated token needs at least one scope")
	}
	c, err := i.base(GraphResource, ttl)
	if err != nil {
		return "", err
	}
	c.ObjectID, c.Subject = u.ObjectID, u.ObjectID
	c.UPN, c.PreferredUsername, c.Name = u.UPN, u.UPN, u.DisplayName
	c.Scope = strings.Join(scopes, " ")
	c.AppID, c.AuthorizedParty = CLIAppID, CLIAppID
	c.IDType = "user"
	return i.Key.sign(c)
}

// AppToken issues a Graph access token for app: its roles, no scopes, and
// its service principal as the subject.
func (i *Issuer) AppToken(app App, ttl time.Duration) (string, error) {
	if app.ClientID == "" {
		return "", errors.New("app token needs a client id")
	}
	c, err := i.base(GraphResource, ttl)
	if err != nil {
		return "", err
	}
	sp := app.ServicePrincipalID()
	c.ObjectID, c.Subject = sp, sp
	c.Roles = append([]string{}, app.Roles...)
	c.AppID, c.AuthorizedParty = app.ClientID, app.ClientID
	c.IDType = "app"
	return i.Key.sign(c)
}

// S2SAudience returns the three-part audience of a server-to-server token
// for host, "client_id/hostname@realm" ([MS-XOAUTH] 3.2.5.6).
func S2SAudience(host, tenantID string) string {
	return ExchangeOnlineAppID + "/" + host + "@" + tenantID
}

// S2SToken issues the token the gateway presents to the on-premises server
// at audienceHost when it acts for the user upn: the actor is Exchange
// Online, "nameid" and "upn" name the user, and the caller's delegated
// scopes (if any) are carried over so the far side can check them.
//
// [MS-XOAUTH] sends an unsigned outer token wrapping a signed actor token;
// hybridgraph folds both into one signed token with the same claims, which
// its own on-prem server checks (see S2SValidator).
func (i *Issuer) S2SToken(upn, audienceHost string, scopes []string,
	ttl time.Duration) (string, error) {
	if upn == "" || audienceHost == "" {
		return "", errors.New("s2s token needs a user and an audience host")
	}
	c, err := i.base(S2SAudience(audienceHost, i.TenantID), ttl)
	if err != nil {
		return "", err
	}
	c.NameID, c.UPN, c.Subject = upn, upn, upn
	c.Scope = strings.Join(scopes, " ")
	c.AppID, c.AuthorizedParty, c.Actor = ExchangeOnlineAppID, ExchangeOnlineAppID,
		ExchangeOnlineAppID
	c.IDType = "s2s"
	return i.Key.sign(c)
}
