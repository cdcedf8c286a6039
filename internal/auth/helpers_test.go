package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testTenant = "6f2c9d1e-8b4a-4c3e-9f7d-1a2b3c4d5e6f"
	testDomain = "contoso.example"
	testBase   = "http://127.0.0.1:5080"
	testUserID = "0b8e4c2a-1d3f-4e5a-8b6c-7d9e0f1a2b3c"
	testUPN    = "alice@contoso.example"
	// otherTenantID is a tenant that is not ours.
	otherTenantID = "11111111-0000-4000-8000-000000000000"
)

// Generating RSA keys is slow; the package's tests share two.
var (
	testKeyOnce   = sync.OnceValues(generateTestKey)
	otherKeyOnce  = sync.OnceValues(generateTestKey)
	testTime      = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	testUser      = User{ObjectID: testUserID, UPN: testUPN, DisplayName: "Alice Example"}
	fixedTestTime = func() time.Time { return testTime }
)

func generateTestKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func mustKey(t testing.TB, once func() (*rsa.PrivateKey, error)) *Key {
	t.Helper()
	priv, err := once()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newTestIssuer returns an issuer over a fresh apps directory, with the
// clock fixed at testTime.
func newTestIssuer(t testing.TB) *Issuer {
	t.Helper()
	dir := t.TempDir()
	return &Issuer{
		Key:      mustKey(t, testKeyOnce),
		TenantID: testTenant,
		Domains:  []string{testDomain},
		BaseURL:  testBase,
		Apps:     NewAppRegistry(dir),
		Now:      fixedTestTime,
		Log:      slog.New(slog.DiscardHandler),
	}
}

// appsDir returns the directory the issuer's registry reads.
func appsDir(i *Issuer) string { return i.Apps.dir }

// requestWithToken builds a GET carrying Authorization: Bearer tok.
func requestWithToken(tok string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/v1.0/me/messages", nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	return r
}
