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
)

// testOrg is a demo organisation running on loopback ports chosen by the
// kernel, in a temporary data directory.
type testOrg struct {
	d   *deploy.Deployment
	sys *system
	ls  *listeners
	dir string
}

// startOrg seeds and starts a demo organisation for one test.
func startOrg(t testing.TB, o Options) *testOrg {
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

	ls, err := listen(o)
	if err != nil {
		t.Fatal(err)
	}
	l := layout{deploy.Layout{Dir: o.Data}}
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
		ls.close()
	})
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
