package auth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tokenEnv is an issuer with one registered app, served over httptest.
type tokenEnv struct {
	issuer   *Issuer
	handler  http.Handler
	clientID string
	secret   string
}

// otherClientID is a well-formed client id that no test registers.
const otherClientID = "3f1e0d2c-0000-4000-8000-000000000000"

func newTokenEnv(t *testing.T) tokenEnv {
	t.Helper()
	i := newTestIssuer(t)
	id, secret, err := RegisterApp(appsDir(i), "Archiver", []string{"Mail.Read", "Mail.Send"})
	if err != nil {
		t.Fatal(err)
	}
	return tokenEnv{issuer: i, handler: i.Handler(), clientID: id, secret: secret}
}

func (e tokenEnv) post(tenant string, form url.Values, mutate func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/"+tenant+"/oauth2/v2.0/token",
		strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if mutate != nil {
		mutate(r)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func (e tokenEnv) goodForm() url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {e.clientID},
		"client_secret": {e.secret},
		"scope":         {"https://graph.microsoft.com/.default"},
	}
}

func TestTokenEndpointSuccess(t *testing.T) {
	env := newTokenEnv(t)
	basic := func(r *http.Request) {
		r.SetBasicAuth(url.QueryEscape(env.clientID), url.QueryEscape(env.secret))
	}
	tests := []struct {
		name   string
		tenant string
		form   func() url.Values
		mutate func(*http.Request)
	}{
		{"secret in form, tenant GUID", testTenant, env.goodForm, nil},
		{"tenant domain", testDomain, env.goodForm, nil},
		{"tenant domain any case", strings.ToUpper(testDomain), env.goodForm, nil},
		{"graph app id scope", testTenant, func() url.Values {
			f := env.goodForm()
			f.Set("scope", GraphAppID+"/.default")
			return f
		}, nil},
		{"HTTP Basic", testTenant, func() url.Values {
			f := env.goodForm()
			f.Del("client_id")
			f.Del("client_secret")
			return f
		}, basic},
		{"HTTP Basic with matching client_id in form", testTenant, func() url.Values {
			f := env.goodForm()
			f.Del("client_secret")
			return f
		}, basic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.post(tt.tenant, tt.form(), tt.mutate)
			if w.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200; body %s", w.Code, w.Body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			var resp tokenResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 3599 || resp.ExtExpiresIn != 3599 {
				t.Errorf("got %+v, want Bearer 3599/3599", resp)
			}
			v := NewValidator(env.issuer.Key, env.issuer.IssuerURL(), testTenant, nil)
			v.now = fixedTestTime
			p, err := v.Authenticate(requestWithToken(resp.AccessToken))
			if err != nil {
				t.Fatalf("issued token refused: %v", err)
			}
			want := &Principal{AppID: env.clientID, TenantID: testTenant,
				Roles: []string{"Mail.Read", "Mail.Send"}}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	env := newTokenEnv(t)
	with := func(k, v string) func() url.Values {
		return func() url.Values {
			f := env.goodForm()
			if v == "" {
				f.Del(k)
			} else {
				f.Set(k, v)
			}
			return f
		}
	}
	tests := []struct {
		name      string
		tenant    string
		form      func() url.Values
		mutate    func(*http.Request)
		status    int
		code      string
		aadsts    int
		challenge string
	}{
		{"unknown tenant", "fabrikam.example", env.goodForm, nil, 400, "invalid_request", 90002, ""},
		{"missing grant_type", "", with("grant_type", ""), nil, 400, "invalid_request", 900144, ""},
		{"password grant", "", with("grant_type", "password"), nil,
			400, "unsupported_grant_type", 70003, ""},
		{"authorization_code grant", "", with("grant_type", "authorization_code"), nil,
			400, "unsupported_grant_type", 70003, ""},
		{"missing client_id", "", with("client_id", ""), nil, 400, "invalid_request", 900144, ""},
		{"unknown client", "", with("client_id", otherClientID), nil,
			400, "unauthorized_client", 700016, ""},
		{"missing secret", "", with("client_secret", ""), nil, 401, "invalid_client", 7000218, ""},
		{"wrong secret", "", with("client_secret", "nope"), nil, 401, "invalid_client", 7000215, ""},
		{"missing scope", "", with("scope", ""), nil, 400, "invalid_request", 900144, ""},
		{"scope without .default", "", with("scope", GraphResource+"/Mail.Read"), nil,
			400, "invalid_scope", 1002012, ""},
		{"openid scope", "", with("scope", "openid"), nil, 400, "invalid_scope", 1002012, ""},
		{"two scopes", "", with("scope", GraphResource+"/.default openid"), nil,
			400, "invalid_scope", 1002012, ""},
		{"other resource", "", with("scope", "https://outlook.office.com/.default"), nil,
			400, "invalid_scope", 70011, ""},
		{"JSON body", "", env.goodForm, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json")
		}, 400, "invalid_request", 900144, ""},
		{"Basic with wrong secret", "", with("client_secret", ""), func(r *http.Request) {
			r.SetBasicAuth(env.clientID, "wrong")
		}, 401, "invalid_client", 7000215, `Basic realm="` + testBase + "/" + testTenant + `/v2.0"`},
		{"Basic and form secret", "", env.goodForm, func(r *http.Request) {
			r.SetBasicAuth(env.clientID, env.secret)
		}, 400, "invalid_request", 0, ""},
		{"Basic and other client_id", "", with("client_secret", ""), func(r *http.Request) {
			r.SetBasicAuth(otherClientID, env.secret)
		}, 400, "invalid_request", 0, ""},
		{"body too large", "", with("padding", strings.Repeat("x", maxFormBytes)), nil,
			413, "invalid_request", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tenant := tt.tenant
			if tenant == "" {
				tenant = testTenant
			}
			w := env.post(tenant, tt.form(), func(r *http.Request) {
				r.Header.Set("client-request-id", "11111111-2222-4333-8444-555555555555")
				if tt.mutate != nil {
					tt.mutate(r)
				}
			})
			checkAADError(t, w, tt.status, tt.code, tt.aadsts)
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.challenge)
			}
		})
	}
}

// checkAADError checks an Azure AD error body: status, error, the AADSTS
// number (0: none) in both error_codes and the description, and the ids.
func checkAADError(t *testing.T, w *httptest.ResponseRecorder, status int, code string, aadsts int) {
	t.Helper()
	if w.Code != status {
		t.Errorf("status: got %d, want %d; body %s", w.Code, status, w.Body)
	}
	var body aadError
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if body.Error != code {
		t.Errorf("error: got %q, want %q (%s)", body.Error, code, body.Description)
	}
	wantCodes := []int{}
	if aadsts != 0 {
		wantCodes = []int{aadsts}
		prefix := "AADSTS" + strconv.Itoa(aadsts) + ": "
		if !strings.HasPrefix(body.Description, prefix) {
			t.Errorf("description: got %q, want prefix %q", body.Description, prefix)
		}
	}
	if diff := cmp.Diff(wantCodes, body.Codes); diff != "" {
		t.Errorf("error_codes (-want +got):\n%s", diff)
	}
	if body.TraceID == "" || body.CorrelationID == "" || body.Timestamp != "2026-03-02 10:00:00Z" {
		t.Errorf("got trace %q correlation %q timestamp %q, want ids and the fixed time",
			body.TraceID, body.CorrelationID, body.Timestamp)
	}
	if !strings.Contains(body.Description, "Correlation ID: "+body.CorrelationID) {
		t.Errorf("description %q lacks the correlation id", body.Description)
	}
}

func TestTokenEndpointCorrelationID(t *testing.T) {
	env := newTokenEnv(t)
	f := env.goodForm()
	f.Set("client_secret", "wrong")
	w := env.post(testTenant, f, func(r *http.Request) {
		r.Header.Set("client-request-id", "11111111-2222-4333-8444-555555555555")
	})
	var body aadError
	json.Unmarshal(w.Body.Bytes(), &body)
	if body.CorrelationID != "11111111-2222-4333-8444-555555555555" {
		t.Errorf("correlation_id: got %q, want the client-request-id", body.CorrelationID)
	}
	w = env.post(testTenant, f, func(r *http.Request) { r.Header.Set("client-request-id", "<script>") })
	json.Unmarshal(w.Body.Bytes(), &body)
	if body.CorrelationID == "<script>" {
		t.Error("a non-GUID client-request-id was echoed")
	}
}

func TestTokenEndpointGetNotAllowed(t *testing.T) {
	env := newTokenEnv(t)
	w := httptest.NewRecorder()
	env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/"+testTenant+"/oauth2/v2.0/token", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint: got %d, want 405", w.Code)
	}
}

func TestDiscovery(t *testing.T) {
	env := newTokenEnv(t)
	want := map[string]any{
		"issuer":                                testBase + "/" + testTenant + "/v2.0",
		"token_endpoint":                        testBase + "/" + testTenant + "/oauth2/v2.0/token",
		"authorization_endpoint":                testBase + "/" + testTenant + "/oauth2/v2.0/authorize",
		"jwks_uri":                              testBase + "/" + testTenant + "/discovery/v2.0/keys",
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"grant_types_supported":                 []any{"client_credentials"},
	}
	for _, path := range []string{"/.well-known/openid-configuration",
		"/" + testTenant + "/v2.0/.well-known/openid-configuration",
		"/" + testDomain + "/v2.0/.well-known/openid-configuration"} {
		t.Run(path, func(t *testing.T) {
			w := httptest.NewRecorder()
			env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
			if w.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200", w.Code)
			}
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for k, v := range want {
				if diff := cmp.Diff(v, doc[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			for _, k := range []string{"response_types_supported", "subject_types_supported"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("required member %s missing", k)
				}
			}
		})
	}
	w := httptest.NewRecorder()
	env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet,
		"/fabrikam.example/v2.0/.well-known/openid-configuration", nil))
	checkAADError(t, w, 400, "invalid_request", 90002)
}

func TestKeysEndpoint(t *testing.T) {
	env := newTokenEnv(t)
	w := httptest.NewRecorder()
	env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/"+testTenant+"/discovery/v2.0/keys", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status: got %d, want 200", w.Code)
	}
	want, _ := env.issuer.Key.JWKS()
	if got := strings.TrimSpace(w.Body.String()); got != string(want) {
		t.Errorf("got %s, want %s", got, want)
	}
	w = httptest.NewRecorder()
	env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/other/discovery/v2.0/keys", nil))
	checkAADError(t, w, 400, "invalid_request", 90002)
}

func TestAuthorizeRefused(t *testing.T) {
	env := newTokenEnv(t)
	paths := []string{"/common/oauth2/authorize", "/" + testTenant +
		"/oauth2/v2.0/authorize?response_type=code&redirect_uri=https://evil.example/"}
	for _, path := range paths {
		w := httptest.NewRecorder()
		env.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		checkAADError(t, w, 400, "invalid_request", 0)
		if loc := w.Header().Get("Location"); loc != "" {
			t.Errorf("%s redirected to %s", path, loc)
		}
	}
}

// Unknown endpoints and wrong methods answer in the token service's JSON
// shape, never ServeMux's plain text.
func TestEndpointMistakesAreJSON(t *testing.T) {
	iss := newTestIssuer(t)
	h := iss.Handler()
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/" + testTenant + "/oauth2/v2.0/token", 405, "POST"},
		{"POST", "/" + testTenant + "/v2.0/.well-known/openid-configuration", 405, "GET"},
		{"GET", "/" + testTenant + "/oauth2/token", 404, ""},
		{"GET", "/nothing", 404, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] == nil {
			t.Errorf("%s %s: not a JSON error: %s", tt.method, tt.path, rec.Body)
		}
		if rec.Code != tt.status || rec.Header().Get("Allow") != tt.allow {
			t.Errorf("%s %s: got %d Allow %q, want %d %q", tt.method, tt.path, rec.Code,
				rec.Header().Get("Allow"), tt.status, tt.allow)
		}
	}
}
