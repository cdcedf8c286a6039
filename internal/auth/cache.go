package auth

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenCacheSize bounds how many verified tokens a validator remembers.
const TokenCacheSize = 10_000

// tokenCache remembers tokens whose signature and claims were verified, so
// that a client's next call with the same token costs a hash instead of an
// RSA verification and a JSON decode. An entry lives until the token
// expires (plus Leeway), the same instant verify would start refusing it.
type tokenCache struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	claims  *tokenClaims
	expires time.Time
}

func (tc *tokenCache) get(raw string, now time.Time) *tokenClaims {
	key := sha256.Sum256([]byte(raw))
	tc.mu.Lock()
	defer tc.mu.Unlock()
	e, ok := tc.entries[key]
	if !ok {
		return nil
	}
	if !now.Before(e.expires) {
		delete(tc.entries, key)
		return nil
	}
	return e.claims
}

func (tc *tokenCache) put(raw string, c *tokenClaims) {
	if c.ExpiresAt == nil {
		return
	}
	key := sha256.Sum256([]byte(raw))
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.entries == nil {
		tc.entries = make(map[[sha256.Size]byte]cachedToken)
	}
	if len(tc.entries) >= TokenCacheSize {
		tc.entries = make(map[[sha256.Size]byte]cachedToken) // start over: simple and bounded
	}
	tc.entries[key] = cachedToken{claims: c, expires: c.ExpiresAt.Add(Leeway)}
}

// verify is verify with the cache in front: a token seen before and not
// yet expired is not verified again. The options must be the same on every
// call of one cache (each validator has its own).
func (tc *tokenCache) verify(ctx context.Context, raw string, keys KeySet, issuer string,
	now func() time.Time, opts ...jwt.ParserOption) (*tokenClaims, error) {
	if c := tc.get(raw, now()); c != nil {
		return c, nil
	}
	c, err := verify(ctx, raw, keys, issuer, now, opts...)
	if err != nil {
		return nil, err
	}
	tc.put(raw, c)
	return c, nil
}
