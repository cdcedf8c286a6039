package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const (
	onpremHost       = "mail.contoso.example"
	s2sChallengeWant = `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", ` +
		`trusted_issuers="00000001-0000-0000-c000-000000000000@` + testTenant + `", ` +
		`token_types="app_asserted_user_v1 service_asserted_app_v1", ` +
		`authorization_uri="` + testBase + `/common/oauth2/authorize"`
)

// jwksServer serves the issuer's JWK Set and counts the fetches; while
// down is set it answers 503.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32
	down    atomic.Bool
}

func newJWKSServer(t *testing.T, k *Key) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	body, err := k.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		if s.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func newTestS2SValidator(t *testing.T, jwksURL string) *S2SValidator {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := NewS2SValidator(ctx, jwksURL, IssuerURL(testBase, testTenant), testTenant, onpremHost)
	if err != nil {
		t.Fatal(err)
	}
	v.now = fixedTestTime
	return v
}

// s2sClaims are the claims of a good S2S token at testTime, changed as for
// goodClaims.
func s2sClaims(change map[string]any) jwt.MapClaims {
	c := goodClaims(map[string]any{
		"aud": S2SAudience(onpremHost, testTenant), "appid": ExchangeOnlineAppID,
		"nameid": testUPN, "oid": nil, "scp": "Mail.Read",
	})
	for k, v := range change {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestS2SValidator(t *testing.T) {
	iss := newTestIssuer(t)
	srv := newJWKSServer(t, iss.Key)
	v := newTestS2SValidator(t, srv.URL)
	other := mustKey(t, otherKeyOnce)

	mint := func(i *Issuer, host string) string {
		tok, err := i.S2SToken(testUPN, host, []string{"Mail.Read", "Mail.Send"}, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherTenant := *iss
	otherTenant.TenantID = otherTenantID
	graphTok, err := iss.DelegatedToken(testUser, []string{"Mail.Read"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const (
		badAud = "Access token validation failure. Invalid audience."
	)
	tests := []struct {
		name string
		tok  string
		want string // "" accepts
	}{
		{"good", mint(iss, onpremHost), ""},
		{"host in other case", mint(iss, "MAIL.Contoso.Example"), ""},
		{"Graph token", graphTok, badAud},
		{"app token", func() string {
			tok, _ := iss.AppToken(App{ClientID: "c0ffee00-0000-4000-8000-000000000000"}, time.Hour)
			return tok
		}(), badAud},
		{"wrong host", mint(iss, "mail.fabrikam.example"), badAud},
		{"wrong host suffix", mint(iss, onpremHost+".evil.example"), badAud},
		{"other tenant's issuer", mint(&otherTenant, onpremHost), "Access token validation failure. Invalid issuer."},
		{"other realm in aud", signWith(t, iss.Key, s2sClaims(map[string]any{
			"aud": S2SAudience(onpremHost, otherTenantID)})), badAud},
		{"client id in upper case", signWith(t, iss.Key, s2sClaims(map[string]any{
			"aud": "00000002-0000-0FF1-CE00-000000000000/" + onpremHost + "@" + testTenant})), badAud},
		{"two audiences", signWith(t, iss.Key, s2sClaims(map[string]any{
			"aud": []string{S2SAudience(onpremHost, testTenant), GraphResource}})), badAud},
		{"other tid", signWith(t, iss.Key, s2sClaims(map[string]any{
			"tid": otherTenantID})), "Access token validation failure. Invalid tenant."},
		{"actor not Exchange Online", signWith(t, iss.Key, s2sClaims(map[string]any{
			"appid": CLIAppID})), "Access token validation failure."},
		{"no user", signWith(t, iss.Key, s2sClaims(map[string]any{"nameid": nil, "upn": nil})),
			"Access token validation failure."},
		{"expired", signWith(t, iss.Key, s2sClaims(map[string]any{
			"exp": testTime.Add(-time.Hour).Unix()})), "Access token has expired or is not yet valid."},
		{"other key", signWith(t, other, s2sClaims(nil)), "Invalid signature."},
		{"other key again (rate-limited refresh)", signWith(t, other, s2sClaims(nil)), "Invalid signature."},
		{"alg none", signJWT(t, jwt.SigningMethodNone, iss.Key.ID, jwt.UnsafeAllowNoneSignatureType,
			s2sClaims(nil)), "Access token validation failure. Unsupported signing algorithm."},
		{"empty", "", "Access token is empty."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			p, err := v.Authenticate(requestWithToken(tt.tok))
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Authenticate took %v; an unknown kid must not wait", d)
			}
			if tt.want != "" {
				checkUnauthorized(t, err, tt.want, s2sChallengeWant)
				return
			}
			if err != nil {
				t.Fatalf("got %v, want acceptance", err)
			}
			want := &Principal{Delegated: true, UPN: testUPN, AppID: ExchangeOnlineAppID,
				TenantID: testTenant, Scopes: []string{"Mail.Read", "Mail.Send"}}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
	if n := srv.fetches.Load(); n < 1 || n > 2 {
		t.Errorf("JWKS fetched %d times, want the first fetch and at most one refresh", n)
	}
}

// The on-prem server may start before the cloud: the first fetch fails,
// and the key set is fetched again when a token with an unknown kid comes.
func TestS2SValidatorJWKSLate(t *testing.T) {
	iss := newTestIssuer(t)
	srv := newJWKSServer(t, iss.Key)
	srv.down.Store(true)
	v := newTestS2SValidator(t, srv.URL)
	srv.down.Store(false)

	tok, err := iss.S2SToken(testUPN, onpremHost, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Authenticate(requestWithToken(tok)); err != nil {
		t.Errorf("after the JWKS came up: got %v, want acceptance", err)
	}
}

func TestNewS2SValidatorNeedsSettings(t *testing.T) {
	if _, err := NewS2SValidator(context.Background(), "http://127.0.0.1:1/keys",
		"", testTenant, onpremHost); err == nil {
		t.Error("no trusted issuer: got a validator")
	}
}

func TestParseS2SAudience(t *testing.T) {
	tests := []struct {
		aud                 string
		client, host, realm string
		ok                  bool
	}{
		{ExchangeOnlineAppID + "/mail.contoso.com@" + testTenant,
			ExchangeOnlineAppID, "mail.contoso.com", testTenant, true},
		{"c/h@r", "c", "h", "r", true},
		{"c/user@h@r", "", "", "", false},
		{"c/h", "", "", "", false},
		{"c@r", "", "", "", false},
		{"/h@r", "", "", "", false},
		{"c/@r", "", "", "", false},
		{"c/h@", "", "", "", false},
		{"c/a/b@r", "", "", "", false},
		{GraphResource, "", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.aud, func(t *testing.T) {
			c, h, r, ok := ParseS2SAudience(tt.aud)
			got := []any{c, h, r, ok}
			want := []any{tt.client, tt.host, tt.realm, tt.ok}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseS2SAudience(f *testing.F) {
	f.Add(ExchangeOnlineAppID + "/mail.contoso.com@" + testTenant)
	f.Add("a/b@c@d")
	f.Add("//@@")
	f.Fuzz(func(t *testing.T, aud string) {
		c, h, r, ok := ParseS2SAudience(aud)
		if !ok {
			return
		}
		if c+"/"+h+"@"+r != aud {
			t.Errorf("parts %q %q %q do not rebuild %q", c, h, r, aud)
		}
		if c == "" || h == "" || r == "" {
			t.Errorf("empty part in %q", aud)
		}
	})
}
