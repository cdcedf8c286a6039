package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Errors of Client.Discover. Each error it returns wraps one of them, except
// when the caller's own context ends first.
var (
	// ErrNotFound: the Autodiscover server says the address has no mailbox
	// (404), or the address is not a plain SMTP address.
	ErrNotFound = errors.New("autodiscover: no mailbox for address")
	// ErrUnreachable: the server could not be asked: connection, DNS, TLS
	// or timeout failures, and 5xx answers.
	ErrUnreachable = errors.New("autodiscover: server unreachable")
	// ErrRefused: an answer came but cannot be used: InvalidProtocol or
	// another 4xx, a malformed body, too many redirects, or a downgrade
	// from https to http.
	ErrRefused = errors.New("autodiscover: answer refused")
)

// Defaults of Client.
const (
	DefaultMaxRedirects = 5
	DefaultTTL          = time.Hour
	DefaultNegativeTTL  = 5 * time.Minute
	DefaultTimeout      = 15 * time.Second
	// maxAnswerBytes bounds an Autodiscover body; real answers are ~100 bytes.
	maxAnswerBytes = 64 << 10
	// maxEntries bounds the cache; past it, expired entries are swept and
	// then arbitrary ones dropped.
	maxEntries = 100_000
)

// Client asks Autodiscover v2 servers for protocol endpoints. The zero value
// is ready to use; fields must not change after the first Discover.
type Client struct {
	// HTTP sends the requests; nil means a client with DefaultTimeout.
	// Its redirect policy is ignored: Discover follows redirects itself.
	HTTP *http.Client
	// MaxRedirects is how many 301/302/307/308 answers are followed;
	// 0 means DefaultMaxRedirects, negative means none.
	MaxRedirects int
	// TTL is how long an endpoint URL is reused; 0 means DefaultTTL.
	TTL time.Duration
	// NegativeTTL is how long ErrNotFound is remembered; 0 means
	// DefaultNegativeTTL, negative disables it. Other errors are never
	// cached, so a server that comes back is used at once.
	NegativeTTL time.Duration
	// Timeout bounds one discovery, redirects included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu      sync.Mutex
	cache   map[cacheKey]cacheEntry
	flights map[cacheKey]*flight
	// requests counts the HTTP requests sent, for tests and metrics.
	requests int64
}

type cacheKey struct{ endpoint, email, protocol string }

type cacheEntry struct {
	url     string
	err     error
	expires time.Time
}

// flight is one discovery in progress; callers that miss the cache for the
// same key wait on it instead of sending their own request.
type flight struct {
	done chan struct{}
	url  string
	err  error
}

// Discover returns the URL that the Autodiscover service at endpoint gives
// for email and protocol. endpoint may be a host base (https://host), the
// full autodiscover.json URL, or the autodiscover.svc or autodiscover.xml
// URL an IntraOrganizationConnector holds (its file name is replaced).
func (c *Client) Discover(ctx context.Context, endpoint, email, protocol string) (string, error) {
	if !ValidAddress(email) {
		return "", fmt.Errorf("%w: not a plain SMTP address", ErrNotFound)
	}
	key := cacheKey{endpoint, strings.ToLower(email), strings.ToLower(protocol)}

	c.mu.Lock()
	if e, ok := c.cache[key]; ok {
		if c.now().Before(e.expires) {
			c.mu.Unlock()
			return e.url, e.err
		}
		delete(c.cache, key)
	}
	f, running := c.flights[key]
	if !running {
		f = &flight{done: make(chan struct{})}
		if c.flights == nil {
			c.flights = make(map[cacheKey]*flight)
		}
		c.flights[key] = f
		// The shared request must outlive a caller that gives up, since
		// others may be waiting on it; Timeout bounds it instead.
		go c.run(context.WithoutCancel(ctx), key, f, endpoint, email, protocol)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.url, f.err
	case <-ctx.Done():
		return "", fmt.Errorf("autodiscover: %w", ctx.Err())
	}
}

func (c *Client) run(ctx context.Context, key cacheKey, f *flight,
	endpoint, email, protocol string) {
	ctx, cancel := context.WithTimeout(ctx, orDefault(c.Timeout, DefaultTimeout))
	defer cancel()
	f.url, f.err = c.fetch(ctx, endpoint, email, protocol)

	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.flights, key)
	defer close(f.done) // after the cache holds the answer
	ttl := orDefault(c.TTL, DefaultTTL)
	if f.err != nil {
		ttl = orDefault(c.NegativeTTL, DefaultNegativeTTL)
		if !errors.Is(f.err, ErrNotFound) {
			ttl = -1
		}
	}
	if ttl > 0 {
		c.store(key, cacheEntry{url: f.url, err: f.err, expires: c.now().Add(ttl)})
	}
}

// store adds an entry; c.mu is held.
func (c *Client) store(key cacheKey, e cacheEntry) {
	if c.cache == nil {
		c.cache = make(map[cacheKey]cacheEntry)
	}
	if len(c.cache) >= maxEntries {
		now := c.now()
		for k, old := range c.cache {
			if !now.Before(old.expires) {
				delete(c.cache, k)
			}
		}
		for k := range c.cache { // still full: drop arbitrary entries
			if len(c.cache) < maxEntries*9/10 {
				break
			}
			delete(c.cache, k)
		}
	}
	c.cache[key] = e
}

// Requests returns how many HTTP requests the client has sent.
func (c *Client) Requests() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func orDefault[T ~int | ~int64](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
