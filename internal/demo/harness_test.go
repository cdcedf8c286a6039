package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// testOrg is a demo organisation running on loopback ports chosen by the
// kernel, in a temporary data directory.
type testOrg struct {
	d   *deploy.Deployment
	sys *system
	ls  *listeners
	dir string
}

// backend names where a test organisation keeps its cloud mailbox
// databases. The on-prem databases and both directories stay SQLite files:
// the backends differ only under the cloud's mailbox engine.
type backend string

const (
	// onSQLite is the demo's default: SQLite files in the data directory.
	onSQLite backend = "sqlite"
	// onPostgres puts each cloud database in a throwaway PostgreSQL
	// database (pgtest): skipped without a test server, failed under CI.
	onPostgres backend = "postgres"
)

// backends are the store backends the end-to-end tests run on.
var backends = []backend{onSQLite, onPostgres}

// eachBackend runs f as one subtest per backend, named after it, each
// with its own organisation started with o and seeded the same way.
func eachBackend(t *testing.T, o Options, f func(t *testing.T, org *testOrg)) {
	t.Helper()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) { f(t, startOrgOn(t, b, o)) })
	}
}

// startOrg seeds and starts a demo organisation for one test, its
// databases SQLite files as the demo has them.
func startOrg(t testing.TB, o Options) *testOrg { return startOrgOn(t, onSQLite, o) }

// storesOn returns the store opener of a data directory whose cloud
// databases are on b: nil (the layout's SQLite files) or a fresh
// PostgreSQL database per cloud database name, made on its first opening
// and opened again (seed, then start) by name.
func storesOn(t testing.TB, b backend, data string) deploy.StoreOpener {
	if b == onSQLite {
		return nil
	}
	pgtest.ServerDSN(t) // skip (or fail under CI) before seeding anything
	files := deploy.Layout{Dir: data}
	dsns := map[string]string{}
	return func(side directory.Premises, name string) (store.Store, error) {
		if side != directory.Cloud {
			return sqlite.Open(files.Database(side, name))
		}
		if dsns[name] == "" {
			dsns[name] = pgtest.FreshDSN(t, "hgdemo_")
		}
		return postgres.Open(context.Background(), dsns[name])
	}
}

// startOrgOn seeds and starts a demo organisation for one test with its
// cloud mailbox databases on b.
func startOrgOn(t testing.TB, b backend, o Options) *testOrg {
	t.Helper()
	ctx := context.Background()
	if o.Data == "" {
		o.Data = t.TempDir()
	}
	for _, a := range []*string{&o.CloudAddr, &o.OnPremAddr, &o.CloudSMTPAddr, &o.OnPremSMTP} {
		if *a == "" {
			*a = "127.0.0.1:0"
		}
	}
	if o.Log == nil {
		level := slog.LevelError
		if os.Getenv("HYBRIDGRAPH_TEST_LOG") != "" {
			level = slog.LevelDebug
		}
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	o.Out = io.Discard

	l := layout{deploy.Layout{Dir: o.Data, Stores: storesOn(t, b, o.Data)}}
	ls, err := listen(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ls.close) // after the stop below: cleanups run last first
	d := &deploy.Deployment{
		CloudURL:   "http://" + ls.cloud.Addr().String(),
		OnPremURL:  "http://" + ls.onprem.Addr().String(),
		CloudSMTP:  ls.cloudSMTP.Addr().String(),
		OnPremSMTP: ls.onpremSMTP.Addr().String(),
	}
	if err := seed(ctx, l, d); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(d); err != nil {
		t.Fatal(err)
	}
	sys, err := start(ctx, l, d, ls, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	// A variant that quietly ran on the default files would pass for
	// the other backend without testing it.
	if _, pg := sys.cloud.Stores[CloudDB].(*postgres.DB); pg != (b == onPostgres) {
		t.Fatalf("cloud database %s: got %T, want a %s store", CloudDB,
			sys.cloud.Stores[CloudDB], b)
	}
	return &testOrg{d: d, sys: sys, ls: ls, dir: o.Data}
}

// token returns a delegated token for upn with scopes.
func (o *testOrg) token(t testing.TB, upn string, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"Mail.ReadWrite", "Mail.Send"}
	}
	u, err := o.sys.cloud.Directory.Lookup(context.Background(), upn)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := o.sys.issuer.DelegatedToken(userOf(u), scopes, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// errorCode returns error.code of a Graph error body.
func (r response) errorCode(t testing.TB) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("answer is not an error body: %v\n%s", err, r.body)
	}
	return e.Error.Code, e.Error.Message
}

// call sends a request with a bearer token (none when token is "").
func call(t testing.TB, method, url, token string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}
