package auth

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Client messages, graph-api.md §5.
const (
	msgEmpty   = "Access token is empty."
	msgParse   = "CompactToken parsing failed with error code: 80049217"
	msgAlg     = "Access token validation failure. Unsupported signing algorithm."
	msgExpired = "Access token has expired or is not yet valid."
	msgSig     = "Invalid signature."
	msgAud     = "Access token validation failure. Invalid audience."
	msgIss     = "Access token validation failure. Invalid issuer."
	msgTenant  = "Access token validation failure. Invalid tenant."
	msgOther   = "Access token validation failure."
)

const graphChallengeWant = `Bearer realm="", authorization_uri="` + testBase +
	`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`

// goodClaims are a delegated token's claims valid at testTime; change
// returns a copy with some members replaced (nil deletes).
func goodClaims(change map[string]any) jwt.MapClaims {
	c := jwt.MapClaims{
		"aud": GraphResource, "iss": IssuerURL(testBase, testTenant),
		"iat": testTime.Unix(), "nbf": testTime.Unix(), "exp": testTime.Add(time.Hour).Unix(),
		"tid": testTenant, "oid": testUserID, "upn": testUPN, "scp": "Mail.Read User.Read",
		"appid": CLIAppID, "ver": "2.0",
	}
	for k, v := range change {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func signWith(t *testing.T, k *Key, c jwt.MapClaims) string {
	t.Helper()
	tok, err := k.sign(map[string]any(c))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signJWT signs with golang-jwt, for algorithms and headers our Key refuses.
func signJWT(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidatorAuthenticate(t *testing.T) {
	iss := newTestIssuer(t)
	key := iss.Key
	other := mustKey(t, otherKeyOnce)
	otherSameKid := &Key{ID: key.ID, private: other.private}
	pubDER, _ := x509.MarshalPKIXPublicKey(key.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	token := func(f func(*Issuer) (string, error)) string {
		tok, err := f(iss)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	withIssuer := func(change func(*Issuer)) *Issuer {
		c := *iss
		change(&c)
		return &c
	}
	delegatedTok := token(func(i *Issuer) (string, error) {
		return i.DelegatedToken(testUser, []string{"Mail.Read", "User.Read"}, time.Hour)
	})

	tests := []struct {
		name   string
		header []string // Authorization values
		want   string   // client message; "" means accepted
	}{
		{"good delegated", []string{"Bearer " + delegatedTok}, ""},
		{"scheme in lower case", []string{"bearer " + delegatedTok}, ""},
		{"missing header", nil, msgEmpty},
		{"Bearer alone", []string{"Bearer"}, msgEmpty},
		{"Bearer and spaces", []string{"Bearer   "}, msgEmpty},
		{"Basic scheme", []string{"Basic YTpi"}, "Access token is empty. The Authorization header must use the Bearer scheme."},
		{"garbage", []string{"Bearer abc"}, msgParse},
		{"not token68", []string{"Bearer a.b c"}, msgParse},
		{"two headers", []string{"Bearer " + delegatedTok, "Bearer " + delegatedTok},
			msgParse},
		{"too long", []string{"Bearer " + strings.Repeat("a", maxTokenBytes+1)},
			msgParse},
		{"three dots of garbage", []string{"Bearer e30.e30.AAAA"}, msgAlg},
		{"expired", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"iat": testTime.Add(-2 * time.Hour).Unix(), "nbf": testTime.Add(-2 * time.Hour).Unix(),
			"exp": testTime.Add(-time.Hour).Unix()}))}, msgExpired},
		{"expired within leeway", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"exp": testTime.Add(-Leeway / 2).Unix()}))}, ""},
		{"expired just past leeway", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"exp": testTime.Add(-Leeway - time.Second).Unix()}))}, msgExpired},
		{"not yet valid", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"nbf": testTime.Add(10 * time.Minute).Unix()}))}, msgExpired},
		{"issued in the future", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"iat": testTime.Add(10 * time.Minute).Unix()}))}, msgExpired},
		{"no exp", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{"exp": nil}))},
			msgOther},
		{"wrong audience", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"aud": "https://outlook.office.com"}))}, msgAud},
		{"graph app id audience", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"aud": GraphAppID}))}, ""},
		{"S2S token", []string{"Bearer " + token(func(i *Issuer) (string, error) {
			return i.S2SToken(testUPN, "mail.contoso.example", []string{"Mail.Read"}, time.Hour)
		})}, msgAud},
		{"wrong issuer", []string{"Bearer " + token(func(*Issuer) (string, error) {
			return withIssuer(func(i *Issuer) { i.BaseURL = "http://127.0.0.1:9999" }).
				DelegatedToken(testUser, []string{"Mail.Read"}, time.Hour)
		})}, msgIss},
		{"other tenant", []string{"Bearer " + token(func(*Issuer) (string, error) {
			return withIssuer(func(i *Issuer) { i.TenantID = otherTenantID }).
				DelegatedToken(testUser, []string{"Mail.Read"}, time.Hour)
		})}, msgIss},
		{"other tid, our issuer", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"tid": otherTenantID}))}, msgTenant},
		{"other key, own kid", []string{"Bearer " + signWith(t, other, goodClaims(nil))},
			msgSig},
		{"other key, our kid", []string{"Bearer " + signWith(t, otherSameKid, goodClaims(nil))},
			msgSig},
		{"no kid", []string{"Bearer " + signJWT(t, jwt.SigningMethodRS256, "", key.private,
			goodClaims(nil))}, msgSig},
		{"tampered payload", []string{"Bearer " + tamper(t, delegatedTok)}, msgSig},
		{"alg none", []string{"Bearer " + signJWT(t, jwt.SigningMethodNone, key.ID,
			jwt.UnsafeAllowNoneSignatureType, goodClaims(nil))}, msgAlg},
		{"HS256 keyed with the public key", []string{"Bearer " + signJWT(t, jwt.SigningMethodHS256,
			key.ID, pubPEM, goodClaims(nil))}, msgAlg},
		{"RS512", []string{"Bearer " + signJWT(t, jwt.SigningMethodRS512, key.ID, key.private,
			goodClaims(nil))}, msgAlg},
		{"delegated without oid", []string{"Bearer " + signWith(t, key, goodClaims(map[string]any{
			"oid": nil}))}, msgOther},
	}
	v := NewValidator(key, iss.IssuerURL(), testTenant, nil)
	v.now = fixedTestTime
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := requestWithToken("")
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			p, err := v.Authenticate(r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want acceptance", err)
				}
				if !p.Delegated || p.UserObjectID != testUserID || p.UPN != testUPN {
					t.Errorf("got principal %+v, want delegated %s", p, testUPN)
				}
				return
			}
			checkUnauthorized(t, err, tt.want, graphChallengeWant)
		})
	}
}

// checkUnauthorized fails unless err is a 401 InvalidAuthenticationToken
// with message msg and the challenge header.
func checkUnauthorized(t *testing.T, err error, msg, challenge string) {
	t.Helper()
	var e *httpserver.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *httpserver.Error", err)
	}
	if e.Status != http.StatusUnauthorized || e.Code != "InvalidAuthenticationToken" {
		t.Errorf("got %d %s, want 401 InvalidAuthenticationToken", e.Status, e.Code)
	}
	if e.Message != msg {
		t.Errorf("message: got %q, want %q (cause: %v)", e.Message, msg, e.Cause)
	}
	if got := e.Header.Get("WWW-Authenticate"); got != challenge {
		t.Errorf("WWW-Authenticate: got %q, want %q", got, challenge)
	}
}

// tamper changes the payload's scp while keeping the signature.
func tamper(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	fake := signJWT(t, jwt.SigningMethodHS256, "", []byte("k"), goodClaims(map[string]any{
		"scp": "Mail.ReadWrite Mail.Send"}))
	return parts[0] + "." + strings.Split(fake, ".")[1] + "." + parts[2]
}

func TestValidatorPrincipals(t *testing.T) {
	iss := newTestIssuer(t)
	v := NewValidator(iss.Key, iss.IssuerURL(), testTenant, nil)
	v.now = fixedTestTime
	app := App{ClientID: "c0ffee00-0000-4000-8000-000000000000", Roles: []string{"Mail.ReadWrite"}}
	appTok, err := iss.AppToken(app, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	delTok, err := iss.DelegatedToken(testUser, []string{"Mail.Read", "Mail.Send"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		tok  string
		want *Principal
	}{
		{"app", appTok, &Principal{AppID: app.ClientID, TenantID: testTenant,
			Roles: []string{"Mail.ReadWrite"}}},
		{"delegated", delTok, &Principal{Delegated: true, UserObjectID: testUserID, UPN: testUPN,
			AppID: CLIAppID, TenantID: testTenant, Scopes: []string{"Mail.Read", "Mail.Send"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.Authenticate(requestWithToken(tt.tok))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIssuedClaims(t *testing.T) {
	iss := newTestIssuer(t)
	tok, err := iss.DelegatedToken(testUser, []string{"Mail.Read"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var got jwt.MapClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &got)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Header["kid"] != iss.Key.ID || parsed.Header["typ"] != "JWT" || parsed.Header["alg"] != "RS256" {
		t.Errorf("header: got %v, want kid, typ JWT, alg RS256", parsed.Header)
	}
	want := map[string]any{
		"aud": GraphResource, "iss": testBase + "/" + testTenant + "/v2.0", "tid": testTenant,
		"oid": testUserID, "upn": testUPN, "preferred_username": testUPN, "name": "Alice Example",
		"scp": "Mail.Read", "appid": CLIAppID, "azp": CLIAppID, "ver": "2.0",
		"iat": float64(testTime.Unix()), "nbf": float64(testTime.Unix()),
		"exp": float64(testTime.Add(time.Hour).Unix()),
	}
	for k, w := range want {
		if diff := cmp.Diff(w, got[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if got["uti"] == "" || got["uti"] != got["jti"] {
		t.Errorf("uti %v, jti %v: want one non-empty id", got["uti"], got["jti"])
	}
	if _, ok := got["roles"]; ok {
		t.Error("delegated token carries roles")
	}
}

func TestIssuerRefusesIncompleteInput(t *testing.T) {
	iss := newTestIssuer(t)
	if _, err := iss.DelegatedToken(User{UPN: testUPN}, []string{"Mail.Read"}, time.Hour); err == nil {
		t.Error("user without object id: got a token")
	}
	if _, err := iss.DelegatedToken(testUser, nil, time.Hour); err == nil {
		t.Error("no scopes: got a token")
	}
	if _, err := iss.DelegatedToken(testUser, []string{"Mail.Read"}, 0); err == nil {
		t.Error("zero lifetime: got a token")
	}
	if _, err := (&Issuer{}).AppToken(App{ClientID: "x"}, time.Hour); err == nil {
		t.Error("issuer without key: got a token")
	}
	if _, err := iss.S2SToken("", "mail.contoso.example", nil, time.Hour); err == nil {
		t.Error("S2S without user: got a token")
	}
}

func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"", "Bearer", "Bearer ", "bearer abc.def.ghi", "Basic abc",
		"Bearer a b", "Bearer abc==", "Bearer ===", "  Bearer   x  ", "Bearer\tx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, err := BearerToken(http.Header{"Authorization": {h}})
		if err != nil {
			if tok != "" {
				t.Errorf("error %v with token %q", err, tok)
			}
			return
		}
		if tok == "" || len(tok) > maxTokenBytes || !isToken68(tok) {
			t.Errorf("accepted %q from %q", tok, h)
		}
		if !strings.Contains(h, tok) {
			t.Errorf("token %q is not part of header %q", tok, h)
		}
	})
}

// FuzzValidatorAuthenticate feeds arbitrary token text to the full check:
// it must never panic and never accept.
func FuzzValidatorAuthenticate(f *testing.F) {
	iss := newTestIssuer(f)
	good, err := iss.DelegatedToken(testUser, []string{"Mail.Read"}, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:len(good)-2])
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	v := NewValidator(iss.Key, iss.IssuerURL(), testTenant, nil)
	v.now = fixedTestTime
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == good {
			return
		}
		r := requestWithToken("")
		r.Header.Set("Authorization", "Bearer "+tok)
		if p, err := v.Authenticate(r); err == nil {
			t.Errorf("accepted %q as %+v", tok, p)
		}
	})
}

// A cached token is refused once it expires, as a fresh one would be.
func TestCachedTokenExpires(t *testing.T) {
	iss := newTestIssuer(t)
	v := NewValidator(iss.Key, iss.IssuerURL(), testTenant, nil)
	now := testTime
	v.now = func() time.Time { return now }
	tok, err := iss.DelegatedToken(User{ObjectID: "u1", UPN: "a@b"}, []string{"Mail.Read"},
		10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second call is served from the cache
		if _, err := v.Authenticate(requestWithToken(tok)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	now = testTime.Add(10*time.Minute + Leeway + time.Second)
	if _, err := v.Authenticate(requestWithToken(tok)); err == nil {
		t.Error("an expired token was accepted from the cache")
	}
	// A token the cache has never seen is still verified in full.
	if _, err := v.Authenticate(requestWithToken(tok[:len(tok)-2] + "xx")); err == nil {
		t.Error("a tampered token was accepted")
	}
}
