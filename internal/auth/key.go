package auth

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// KeyFile is the name of the signing key file inside the key directory.
const KeyFile = "signing-key.pem"

// keyBits is the RSA modulus size. Azure AD signs with 2048-bit RSA keys and
// RFC 7518 section 3.3 requires at least 2048 bits for RS256.
const keyBits = 2048

// Key is the token service's RSA signing key. Its ID is the RFC 7638 JWK
// thumbprint of the public key, so the same key always has the same "kid".
type Key struct {
	// ID is the "kid" written into every token header and the JWK Set.
	ID      string
	private *rsa.PrivateKey
}

// KeySet finds the public key that verifies a token whose header names kid.
// Key implements it for tokens the local token service signed; the S2S
// validator uses a key set fetched from a remote JWKS URL.
type KeySet interface {
	PublicKey(ctx context.Context, kid string) (crypto.PublicKey, error)
}

// errUnknownKey reports a "kid" the key set does not hold.
var errUnknownKey = errors.New("no key with that id")

// LoadOrCreateKey reads dir/signing-key.pem, or creates a new RSA 2048 key
// there (mode 0600, directory 0700) when the file does not exist. A key
// file readable by group or others is refused: whoever reads it can mint
// tokens for any user.
func LoadOrCreateKey(dir string) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	k, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	if err := writeKey(path, priv); errors.Is(err, fs.ErrExist) {
		// Another process created it first; use theirs so both agree.
		return readKey(path)
	} else if err != nil {
		return nil, err
	}
	return newKey(priv)
}

// NewKey wraps an existing RSA private key, for callers (and tests) that
// keep keys elsewhere.
func NewKey(priv *rsa.PrivateKey) (*Key, error) {
	if priv.N.BitLen() < keyBits {
		return nil, fmt.Errorf("signing key has %d bits, want at least %d",
			priv.N.BitLen(), keyBits)
	}
	return newKey(priv)
}

func readKey(path string) (*Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s has mode %v, want 0600", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: no PKCS #8 PEM block", path)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse signing key: %w", err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s is %T, want RSA", path, parsed)
	}
	return NewKey(priv)
}

// writeKey creates path exclusively, so two processes starting at once do
// not overwrite each other's key.
func writeKey(path string, priv *rsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("encode signing key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write signing key: %w", err)
	}
	return nil
}

func newKey(priv *rsa.PrivateKey) (*Key, error) {
	id, err := thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &Key{ID: id, private: priv}, nil
}

// thumbprint is the RFC 7638 section 3 JWK thumbprint: SHA-256 over the
// key's required members in lexical order, base64url without padding.
func thumbprint(pub *rsa.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// Public returns the public half of the key.
func (k *Key) Public() *rsa.PublicKey { return &k.private.PublicKey }

// PublicKey implements KeySet: it knows only its own kid.
func (k *Key) PublicKey(_ context.Context, kid string) (crypto.PublicKey, error) {
	if kid != k.ID {
		return nil, fmt.Errorf("kid %q: %w", kid, errUnknownKey)
	}
	return k.Public(), nil
}

// JWKS returns the JWK Set (RFC 7517 section 5) holding the public key,
// with "use":"sig" and "alg":"RS256" as Azure AD publishes its keys.
func (k *Key) JWKS() ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       k.Public(),
		KeyID:     k.ID,
		Algorithm: string(jose.RS256),
		Use:       "sig",
	}}}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("encode jwks: %w", err)
	}
	return b, nil
}

// sign serialises claims as a compact JWS with RS256, "typ":"JWT" and the
// key's "kid" (RFC 7515 section 4.1.4).
func (k *Key) sign(claims any) (string, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k.private, KeyID: k.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("new signer: %w", err)
	}
	tok, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return tok, nil
}
