package auth

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxFormBytes bounds a token request body. A client credentials request
// is a few hundred bytes; 64 KiB leaves room for long client assertions
// while keeping a hostile body from costing memory.
const maxFormBytes = 64 << 10

// Handler serves the token service:
//
//	GET  /.well-known/openid-configuration            discovery (own tenant)
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	GET  /{tenant}/discovery/v2.0/keys                JWK Set
//	POST /{tenant}/oauth2/v2.0/token                  client credentials grant
//	GET  /{tenant}/oauth2/v2.0/authorize              refused: no interactive sign-in
//	GET  /{tenant}/oauth2/authorize                   the same, v1.0 path
//
// {tenant} is the tenant GUID or one of the organisation's domains.
func (i *Issuer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", i.serveDiscovery)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", i.serveKeys)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", i.serveToken)
	mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", i.serveAuthorize)
	mux.HandleFunc("GET /{tenant}/oauth2/authorize", i.serveAuthorize)
	// Every other method on those paths, and every other path, answers in
	// the same JSON shape rather than ServeMux's plain text.
	for path, allow := range map[string]string{
		"/.well-known/openid-configuration":               "GET",
		"/{tenant}/v2.0/.well-known/openid-configuration": "GET",
		"/{tenant}/discovery/v2.0/keys":                   "GET",
		"/{tenant}/oauth2/v2.0/token":                     "POST",
		"/{tenant}/oauth2/v2.0/authorize":                 "GET",
		"/{tenant}/oauth2/authorize":                      "GET",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			i.writeOAuthError(w, r, &oauthError{status: http.StatusMethodNotAllowed,
				code: "invalid_request", description: "The endpoint only accepts " + allow +
					" requests."})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		i.writeOAuthError(w, r, &oauthError{status: http.StatusNotFound,
			code: "invalid_request", description: "The token service has no such endpoint."})
	})
	return mux
}

// knowsTenant reports whether t names this tenant: its GUID or a domain,
// both compared without regard to case.
func (i *Issuer) knowsTenant(t string) bool {
	if strings.EqualFold(t, i.TenantID) {
		return true
	}
	for _, d := range i.Domains {
		if strings.EqualFold(t, d) {
			return true
		}
	}
	return false
}

// discovery is the OpenID Provider Metadata document (OpenID Connect
// Discovery 1.0 section 3).
type discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ResponseTypes         []string `json:"response_types_supported"`
	SubjectTypes          []string `json:"subject_types_supported"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	TokenEndpointAuth     []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported       []string `json:"scopes_supported"`
	ClaimsSupported       []string `json:"claims_supported"`
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if t := r.PathValue("tenant"); t != "" && !i.knowsTenant(t) {
		i.writeOAuthError(w, r, tenantNotFound(t))
		return
	}
	base := strings.TrimSuffix(i.BaseURL, "/") + "/" + i.TenantID
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                i.IssuerURL(),
		AuthorizationEndpoint: base + "/oauth2/v2.0/authorize",
		TokenEndpoint:         base + "/oauth2/v2.0/token",
		JWKSURI:               i.JWKSURL(),
		// Required by Discovery 1.0 §3; the authorization endpoint itself
		// explains that interactive sign-in is not offered.
		ResponseTypes:     []string{"code"},
		SubjectTypes:      []string{"pairwise"},
		SigningAlgs:       []string{"RS256"},
		GrantTypes:        []string{"client_credentials"},
		TokenEndpointAuth: []string{"client_secret_post", "client_secret_basic"},
		ScopesSupported:   []string{GraphResource + "/.default"},
		ClaimsSupported: []string{"aud", "iss", "iat", "nbf", "exp", "tid", "oid", "sub",
			"upn", "preferred_username", "name", "scp", "roles", "appid", "azp", "ver"},
	})
}

func (i *Issuer) serveKeys(w http.ResponseWriter, r *http.Request) {
	if t := r.PathValue("tenant"); !i.knowsTenant(t) {
		i.writeOAuthError(w, r, tenantNotFound(t))
		return
	}
	jwks, err := i.Key.JWKS()
	if err != nil {
		i.log().Error("serve jwks", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(jwks)
}

func (i *Issuer) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	// No redirect: RFC 6749 4.1.2.1 forbids redirecting to an unverified
	// redirect_uri, and no app here has registered one.
	i.writeOAuthError(w, r, &oauthError{
		status: http.StatusBadRequest, code: "invalid_request",
		description: "hybridgraph's token service has no interactive sign-in. " +
			"Apps use the client credentials grant at the token endpoint; " +
			"delegated tokens come from the 'hybridgraph token' command.",
	})
}

// tokenResponse is the successful answer (RFC 6749 section 5.1) with Azure
// AD's ext_expires_in.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	tok, ttl, oerr := i.clientCredentials(r)
	if oerr != nil {
		i.log().Info("token request refused", "error", oerr.code, "codes", oerr.codes)
		i.writeOAuthError(w, r, oerr)
		return
	}
	// One second less than the lifetime, as Azure AD reports 3599 for an
	// hour, so a client's refresh never races the exact expiry.
	secs := int64(ttl/time.Second) - 1
	w.Header().Set("Cache-Control", "no-store") // RFC 6749 5.1
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{
		TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: tok,
	})
}

// clientCredentials runs the client credentials grant (RFC 6749 4.4).
func (i *Issuer) clientCredentials(r *http.Request) (string, time.Duration, *oauthError) {
	if t := r.PathValue("tenant"); !i.knowsTenant(t) {
		return "", 0, tenantNotFound(t)
	}
	form, oerr := readForm(r)
	if oerr != nil {
		return "", 0, oerr
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return "", 0, missingParameter("grant_type")
	}
	if grant != "client_credentials" {
		return "", 0, &oauthError{status: http.StatusBadRequest,
			code: "unsupported_grant_type", codes: []int{70003},
			description: fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant)}
	}
	clientID, secret, basic, oerr := clientAuth(r, form)
	if oerr != nil {
		return "", 0, oerr
	}
	if oerr := checkScope(form.Get("scope")); oerr != nil {
		return "", 0, oerr
	}
	app, oerr := i.authenticateClient(clientID, secret, basic)
	if oerr != nil {
		return "", 0, oerr
	}
	ttl := i.TokenTTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	tok, err := i.AppToken(app, ttl)
	if err != nil {
		i.log().Error("issue app token", "client_id", app.ClientID, "err", err)
		return "", 0, serverError()
	}
	return tok, ttl, nil
}

// readForm reads an application/x-www-form-urlencoded body (RFC 6749 3.2:
// parameters travel in the body, never the query string).
func readForm(r *http.Request) (url.Values, *oauthError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		// Azure AD finds no parameters in such a body, hence no grant_type.
		return nil, missingParameter("grant_type")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxFormBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &oauthError{status: http.StatusRequestEntityTooLarge,
			code: "invalid_request", codes: []int{},
			description: fmt.Sprintf("The request body exceeds %d bytes.", maxFormBytes)}
	}
	if err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request",
			codes: []int{}, description: "The request body could not be read."}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request",
			codes: []int{}, description: "The request body is not valid form data."}
	}
	return form, nil
}

// clientAuth takes the client's credentials from HTTP Basic or the form
// (RFC 6749 2.3.1); a client must not use both (RFC 6749 2.3).
func clientAuth(r *http.Request, form url.Values) (id, secret string, basic bool,
	oerr *oauthError) {
	bid, bsecret, basic := r.BasicAuth()
	if basic {
		if form.Has("client_secret") || form.Has("client_assertion") {
			return "", "", true, &oauthError{status: http.StatusBadRequest,
				code: "invalid_request", codes: []int{},
				description: "The client authenticated with more than one method."}
		}
		// RFC 6749 2.3.1: both parts are form-urlencoded before Basic.
		id, err1 := url.QueryUnescape(bid)
		secret, err2 := url.QueryUnescape(bsecret)
		if err1 != nil || err2 != nil {
			return "", "", true, &oauthError{status: http.StatusBadRequest,
				code: "invalid_request", codes: []int{},
				description: "The Authorization header carries credentials that are " +
					"not form-urlencoded."}
		}
		if f := form.Get("client_id"); f != "" && f != id {
			return "", "", true, &oauthError{status: http.StatusBadRequest,
				code: "invalid_request", codes: []int{},
				description: "The client_id in the body differs from the one in the " +
					"Authorization header."}
		}
		return id, secret, true, nil
	}
	if form.Get("client_id") == "" {
		return "", "", false, missingParameter("client_id")
	}
	return form.Get("client_id"), form.Get("client_secret"), false, nil
}

// checkScope accepts only Graph's ".default" scope: the client credentials
// grant asks for every application permission the app was granted.
func checkScope(scope string) *oauthError {
	if scope == "" {
		return missingParameter("scope")
	}
	if !strings.HasSuffix(scope, "/.default") || strings.ContainsAny(scope, " \t") {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
			codes: []int{1002012}, description: fmt.Sprintf("The provided value for "+
				"scope %s is not valid. Client credential flows must have a scope value "+
				"with /.default suffixed to the resource identifier (application ID URI).",
				scope)}
	}
	resource := strings.TrimSuffix(scope, "/.default")
	if resource != GraphResource && resource != GraphAppID {
		return &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
			codes: []int{70011}, description: fmt.Sprintf("The provided value for the "+
				"input parameter 'scope' is not valid. The scope %s is not valid.", scope)}
	}
	return nil
}

func (i *Issuer) authenticateClient(clientID, secret string, basic bool) (App, *oauthError) {
	var app App
	found := false
	if i.Apps != nil {
		var err error
		app, found, err = i.Apps.Lookup(clientID)
		if err != nil {
			i.log().Error("look up app", "err", err)
			return App{}, serverError()
		}
	}
	if !found {
		return App{}, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client",
			codes: []int{700016}, description: fmt.Sprintf("Application with identifier "+
				"'%s' was not found in the directory '%s'. The app may not be registered "+
				"with this token service, or the client id may be misspelt.",
				clientID, i.TenantID)}
	}
	if secret == "" {
		return App{}, invalidClient(7000218, "The request body must contain the following "+
			"parameter: 'client_assertion' or 'client_secret'.", basic)
	}
	if !app.CheckSecret(secret) {
		return App{}, invalidClient(7000215, fmt.Sprintf("Invalid client secret provided. "+
			"Ensure the secret being sent in the request is the client secret value, not "+
			"the client secret ID, for a secret added to app '%s'.", app.ClientID), basic)
	}
	return app, nil
}
