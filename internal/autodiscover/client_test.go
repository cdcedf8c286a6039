package autodiscover

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer serves Handler(directory) behind a request counter.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	h := Handler(directory)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestDiscoverEndpointForms(t *testing.T) {
	srv, _ := countingServer(t)
	for _, ep := range []string{
		srv.URL,
		srv.URL + "/",
		srv.URL + "/autodiscover/autodiscover.json",
		srv.URL + "/AutoDiscover/AutoDiscover.svc",
		srv.URL + "/autodiscover/autodiscover.xml",
	} {
		t.Run(ep[len(srv.URL):], func(t *testing.T) {
			var c Client
			got, err := c.Discover(context.Background(), ep, "alice@contoso.test", "Rest")
			if err != nil {
				t.Fatal(err)
			}
			if want := "http://127.0.0.1:5443/api"; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestDiscoverErrors(t *testing.T) {
	srv, _ := countingServer(t)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer broken.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"Protocol":"Rest","Url":"ftp://x/api"}`))
	}))
	defer garbage.Close()

	tests := []struct {
		name, endpoint, email, protocol string
		want                            error
	}{
		{"unknown user", srv.URL, "bob@contoso.test", "Rest", ErrNotFound},
		{"bad address", srv.URL, "bob", "Rest", ErrNotFound},
		{"invalid protocol", srv.URL, "alice@contoso.test", "Ews", ErrRefused},
		{"connection refused", downURL, "alice@contoso.test", "Rest", ErrUnreachable},
		{"server error", broken.URL, "alice@contoso.test", "Rest", ErrUnreachable},
		{"non-http answer", garbage.URL, "alice@contoso.test", "Rest", ErrRefused},
		{"non-http endpoint", "ftp://x/", "alice@contoso.test", "Rest", ErrRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Client
			_, err := c.Discover(context.Background(), tt.endpoint, tt.email, tt.protocol)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.email) && tt.email != "bob" {
				t.Errorf("error %q names the address", err)
			}
		})
	}
}

// hop redirects to next with a 302, recording the RedirectCount it got.
func hop(t *testing.T, next func() string, seen *[]string, mu *sync.Mutex) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*seen = append(*seen, r.URL.Query().Get("RedirectCount"))
		mu.Unlock()
		// Like Exchange Online, name address and protocol again.
		http.Redirect(w, r, next()+Path+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDiscoverRedirects(t *testing.T) {
	final, _ := countingServer(t)
	var (
		mu   sync.Mutex
		seen []string
	)
	// A chain of four redirects: h4 → h3 → h2 → h1 → final.
	prev := final.URL
	var first string
	for range 4 {
		p := prev
		first = hop(t, func() string { return p }, &seen, &mu).URL
		prev = first
	}

	tests := []struct {
		name     string
		max      int
		want     error
		wantSeen []string
	}{
		{"within limit", 4, nil, []string{"", "1", "2", "3"}},
		{"default limit", 0, nil, []string{"", "1", "2", "3"}},
		{"beyond limit", 3, ErrRefused, []string{"", "1", "2", "3"}},
		{"no redirects allowed", -1, ErrRefused, []string{""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			c := Client{MaxRedirects: tt.max}
			if tt.max < 0 {
				c.MaxRedirects = -1
			}
			got, err := c.Discover(context.Background(), first, "alice@contoso.test", "rest")
			if !errors.Is(err, tt.want) || (err == nil && got != "http://127.0.0.1:5443/api") {
				t.Fatalf("got %q, %v; want the REST root, %v", got, err, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(seen, ",") != strings.Join(tt.wantSeen, ",") {
				t.Errorf("RedirectCount seen: got %q, want %q", seen, tt.wantSeen)
			}
		})
	}
}

func TestDiscoverRefusesDowngrade(t *testing.T) {
	plain, plainHits := countingServer(t)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+Path+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer secure.Close()
	c := Client{HTTP: secure.Client()}
	_, err := c.Discover(context.Background(), secure.URL, "alice@contoso.test", "Rest")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "https") {
		t.Errorf("got %v, want ErrRefused for the downgrade", err)
	}
	if n := plainHits.Load(); n != 0 {
		t.Errorf("the http server got %d requests, want 0", n)
	}

	// An https service must not hand out an http endpoint either.
	answer := httptest.NewTLSServer(Handler(directory))
	defer answer.Close()
	c2 := Client{HTTP: answer.Client()}
	if _, err := c2.Discover(context.Background(), answer.URL, "alice@contoso.test", "Rest"); !errors.Is(err, ErrRefused) {
		t.Errorf("http URL from https service: got %v, want ErrRefused", err)
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestDiscoverCache(t *testing.T) {
	srv, hits := countingServer(t)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := Client{TTL: time.Hour, NegativeTTL: time.Minute, Now: clk.Now}
	ctx := context.Background()
	discover := func(email string) error {
		_, err := c.Discover(ctx, srv.URL, email, "Rest")
		return err
	}

	steps := []struct {
		name     string
		advance  time.Duration
		email    string
		wantErr  error
		wantHits int64
	}{
		{"first ask", 0, "alice@contoso.test", nil, 1},
		{"cache hit", 59 * time.Minute, "alice@contoso.test", nil, 1},
		{"other casing hits", 0, "Alice@Contoso.Test", nil, 1},
		{"expired", 2 * time.Minute, "alice@contoso.test", nil, 2},
		{"not found", 0, "bob@contoso.test", ErrNotFound, 3},
		{"negative hit", 30 * time.Second, "bob@contoso.test", ErrNotFound, 3},
		{"negative expired", time.Minute, "bob@contoso.test", ErrNotFound, 4},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if err := discover(s.email); !errors.Is(err, s.wantErr) {
			t.Fatalf("%s: got %v, want %v", s.name, err, s.wantErr)
		}
		if got := hits.Load(); got != s.wantHits {
			t.Fatalf("%s: server requests: got %d, want %d", s.name, got, s.wantHits)
		}
	}
	if got := c.Requests(); got != 4 {
		t.Errorf("Requests(): got %d, want 4", got)
	}
}

func TestDiscoverUnreachableNotCached(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	var hits atomic.Int64
	h := Handler(directory)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var c Client
	if _, err := c.Discover(context.Background(), srv.URL, "alice@contoso.test", "Rest"); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("got %v, want ErrUnreachable", err)
	}
	fail.Store(false)
	if _, err := c.Discover(context.Background(), srv.URL, "alice@contoso.test", "Rest"); err != nil {
		t.Fatalf("after recovery: got %v, want success", err)
	}
	if got := hits.Load(); got != 2 {
		t.Errorf("server requests: got %d, want 2", got)
	}
}

func TestDiscoverSingleFlight(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int64
	h := Handler(directory)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()

	var c Client
	const callers = 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := c.Discover(context.Background(), srv.URL, "alice@contoso.test", "Rest")
			errs <- err
		})
	}
	// Let every caller reach the wait before the server answers.
	for deadline := time.Now().Add(5 * time.Second); hits.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no request reached the server")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("server requests: got %d, want 1", got)
	}
}

func TestDiscoverCallerCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		Handler(directory).ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer close(release)
	var c Client
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Discover(ctx, srv.URL, "alice@contoso.test", "Rest")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the caller's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v, want soon after the caller's deadline", d)
	}
}
