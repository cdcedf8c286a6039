package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
)

// postgresDSN creates a throwaway database for the test (pgtest.FreshDSN).
func postgresDSN(t *testing.T) string { return pgtest.FreshDSN(t, "hgserve_") }

// configFor writes a configuration over dir with the cloud database
// CLOUD-DB01 on PostgreSQL when dsn is set, and returns it loaded. An
// empty smartHost runs no queue.
func configFor(t *testing.T, dir, publicURL, dsn, smartHost string) *config.Config {
	t.Helper()
	db := "  - name: " + demo.CloudDB + "\n    driver: sqlite\n"
	if dsn != "" {
		db = "  - name: " + demo.CloudDB + "\n    driver: postgres\n    dsn: " + dsn + "\n"
	}
	y := fmt.Sprintf(`data:
  directory: %s
publicURL: %s
listen: 127.0.0.1:0
databases:
%slimits:
  maxTop: 50
smtp:
  listen: 127.0.0.1:0
`, dir, publicURL, db)
	if smartHost != "" {
		y += "  smartHost: " + smartHost + "\n"
	}
	path := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// seeded seeds the demo organisation into a fresh data directory, its
// cloud databases opened as c says.
func seeded(t *testing.T, c *config.Config) *deploy.Deployment {
	t.Helper()
	ctx := context.Background()
	d := &deploy.Deployment{CloudURL: c.PublicURL, OnPremURL: "http://127.0.0.1:9",
		CloudSMTP: "127.0.0.1:9", OnPremSMTP: "127.0.0.1:9"}
	l := deploy.Layout{Dir: c.Data.Directory, Stores: gateway.Opener(ctx, c)}
	if err := demo.Seed(ctx, l, d); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return d
}

// start starts a gateway on ln and stops it when the test ends.
func start(t *testing.T, c *config.Config, ln net.Listener) *gateway.Server {
	t.Helper()
	srv, _ := startStoppable(t, c, ln)
	return srv
}

// startStoppable starts a gateway on ln and returns it with a function
// that stops it, waiting for its workers; the test's end stops it too
// unless that ran already.
func startStoppable(t *testing.T, c *config.Config, ln net.Listener) (*gateway.Server, func()) {
	t.Helper()
	level := slog.LevelError
	if os.Getenv("HYBRIDGRAPH_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := gateway.Start(context.Background(), c, gateway.Listeners{HTTP: ln}, log)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if err := srv.Stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// token mints a delegated token for upn from the gateway's own issuer.
func token(t *testing.T, srv *gateway.Server, upn string) string {
	t.Helper()
	u, err := srv.Directory().Lookup(context.Background(), upn)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := srv.Issuer().DelegatedToken(auth.User{ObjectID: u.ObjectID, UPN: u.UPN,
		DisplayName: u.DisplayName}, []string{"Mail.ReadWrite", "Mail.Send"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	body   map[string]any
	raw    []byte
}

// call sends a Graph request with a bearer token and decodes the answer.
func call(t *testing.T, method, url, tok string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, raw: raw}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %v", method, url, err)
		}
	}
	return r
}

// want fails the test unless r has status.
func (r response) want(t *testing.T, what string, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: got status %d, want %d\n%s", what, r.status, status, r.raw)
	}
	return r
}

func (r response) values(t *testing.T) []any {
	t.Helper()
	v, ok := r.body["value"].([]any)
	if !ok {
		t.Fatalf("answer has no value array: %s", r.raw)
	}
	return v
}
