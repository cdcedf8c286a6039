package hybrid

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// TokenSource issues server-to-server tokens: actor the gateway, on behalf
// of the user with UPN upn, for the on-premises host audienceHost
// (reference exchange-hybrid.md §3.3–3.4).
type TokenSource interface {
	S2SToken(upn, audienceHost string, scopes []string, ttl time.Duration) (string, error)
}

const (
	// tokenTTL is the lifetime asked for.
	tokenTTL = time.Hour
	// tokenMargin: a token is not reused in its last five minutes, so that
	// clock skew and a slow call cannot make it expire in flight.
	tokenMargin = 5 * time.Minute
	// maxTokens bounds the cache; one entry per active on-prem user.
	maxTokens = 100_000
)

type tokenKey struct{ upn, audience, scopes string }

type tokenEntry struct {
	token   string
	expires time.Time
}

// tokenCache keeps S2S tokens per user and audience (and scope set: a user
// whose permissions change must get a new token).
type tokenCache struct {
	mu  sync.Mutex
	m   map[tokenKey]tokenEntry
	now func() time.Time
}

func (c *tokenCache) get(src TokenSource, upn, audience string, scopes []string) (string, error) {
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	key := tokenKey{strings.ToLower(upn), strings.ToLower(audience), strings.Join(sorted, " ")}
	now := c.now()

	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires.Add(-tokenMargin)) {
		return e.token, nil
	}

	// Issue outside the lock: signing is local and quick, and two
	// concurrent misses for one user cost only a second signature.
	tok, err := src.S2SToken(upn, audience, scopes, tokenTTL)
	if err != nil {
		return "", fmt.Errorf("issue s2s token: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[tokenKey]tokenEntry)
	}
	if len(c.m) >= maxTokens {
		for k, old := range c.m {
			if !now.Before(old.expires.Add(-tokenMargin)) || len(c.m) >= maxTokens {
				delete(c.m, k)
			}
		}
	}
	c.m[key] = tokenEntry{token: tok, expires: now.Add(tokenTTL)}
	return tok, nil
}
