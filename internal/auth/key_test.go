package auth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("key file mode: got %v, want 0600", got)
	}
	if got := k1.Public().N.BitLen(); got != 2048 {
		t.Errorf("key size: got %d bits, want 2048", got)
	}

	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if k2.ID != k1.ID || !k2.Public().Equal(k1.Public()) {
		t.Errorf("second load: got kid %s, want the same key %s", k2.ID, k1.ID)
	}

	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("world-readable key file: got no error, want a refusal")
	}
}

func TestLoadOrCreateKeyGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(dir); err == nil {
		t.Error("garbage key file: got no error")
	}
}

// The example of RFC 7638 section 3.1.
func TestThumbprintRFC7638(t *testing.T) {
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2a" +
		"iAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn6" +
		"4tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqz" +
		"s8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4" +
		"lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	got, err := thumbprint(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint: got %s, want %s", got, want)
	}
}

func TestJWKS(t *testing.T) {
	k := mustKey(t, testKeyOnce)
	raw, err := k.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(set.Keys))
	}
	jwk := set.Keys[0]
	for field, want := range map[string]string{"kty": "RSA", "kid": k.ID, "use": "sig",
		"alg": "RS256", "e": "AQAB"} {
		if jwk[field] != want {
			t.Errorf("%s: got %q, want %q", field, jwk[field], want)
		}
	}
	if _, private := jwk["d"]; private {
		t.Error("JWKS holds the private exponent d")
	}
	n, _ := base64.RawURLEncoding.DecodeString(jwk["n"])
	if new(big.Int).SetBytes(n).Cmp(k.Public().N) != 0 {
		t.Error("JWKS modulus differs from the key's")
	}
}
