package readiness_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
	"github.com/hybridgraph/hybridgraph/internal/readiness"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata")

// running is a demo deployment started by a test.
type running struct {
	d   *deploy.Deployment
	dir string
}

// seeded is a demo data directory seeded once for all scenarios.
func seeded(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	stop := startDemo(t, dir)
	defer stop()
	syncDemo(t, dir)
	return dir
}

// syncDemo pushes the demo's on-prem directory to its cloud once, as
// hybridgraph sync does.
func syncDemo(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	l := deploy.Layout{Dir: dir}
	d, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	prem, err := directory.Open(l.Directory(directory.OnPrem), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	b, err := dirsync.FromDirectory(ctx, prem)
	if err != nil {
		t.Fatal(err)
	}
	iss := issuerOf(t, dir, d)
	c := &dirsync.Client{BaseURL: d.CloudURL, HTTP: http.DefaultClient,
		Token: func(context.Context) (string, error) {
			return iss.AppToken(auth.App{ClientID: "sync", Roles: auth.DirectorySync.Application},
				time.Minute)
		}}
	if sum, err := c.Push(ctx, b, false); err != nil || sum.Failed > 0 {
		t.Fatalf("sync: %+v, %v", sum, err)
	}
}

func issuerOf(t *testing.T, dir string, d *deploy.Deployment) *auth.Issuer {
	t.Helper()
	key, err := auth.LoadOrCreateKey(deploy.Layout{Dir: dir}.KeyDir())
	if err != nil {
		t.Fatal(err)
	}
	return &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
}

// staleSync records the last sync two days back, as if sync had stopped.
func staleSync(t *testing.T, dir string) {
	t.Helper()
	l := deploy.Layout{Dir: dir}
	cloud, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	then := time.Now().Add(-48*time.Hour - 30*time.Minute)
	if _, err := cloud.Apply(context.Background(), directory.Batch{},
		directory.SyncOptions{Now: func() time.Time { return then }}); err != nil {
		t.Fatal(err)
	}
}

// cloudGUIDMismatch gives carol's cloud entry another mailbox GUID than
// her on-prem mailbox's, as when the cloud provisioned a mailbox of its own
// for a synced user (exchange-hybrid.md §3.1, §6.2 R3).
func cloudGUIDMismatch(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	l := deploy.Layout{Dir: dir}
	cloud, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	carol, err := cloud.Lookup(ctx, "carol@"+demo.Domain)
	if err != nil {
		t.Fatal(err)
	}
	carol.MailboxGUID = "0b4d6a1e-6c2f-4f0e-9a57-3d1c2b8e7f60"
	if err := cloud.Put(ctx, carol); err != nil {
		t.Fatal(err)
	}
}

// startDemo runs the demo on dir until the returned stop is called.
func startDemo(t *testing.T, dir string) (stop func()) {
	return startDemoPublished(t, dir, "")
}

// startDemoPublished starts the demo on dir with its on-prem server
// published at public (empty: where it listens).
func startDemoPublished(t *testing.T, dir, public string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{Data: dir, CloudAddr: "127.0.0.1:0",
			OnPremAddr: "127.0.0.1:0", CloudSMTPAddr: "127.0.0.1:0", OnPremSMTP: "127.0.0.1:0",
			OnPremPublicURL: public, Out: io.Discard, Log: slog.New(slog.DiscardHandler)})
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v", err)
		default:
		}
		if d, err := (deploy.Layout{Dir: dir}).Load(); err == nil {
			if resp, err := http.Get(d.OnPremURL + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK && reachable(d.CloudURL) {
					return stop
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("demo did not start within 30s")
	return stop
}

func reachable(base string) bool {
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// scenario copies the seeded data directory, lets edit change the
// topology, and starts the demo on the copy.
func scenario(t *testing.T, base string, edit func(*onprem.Topology),
	prepare func(*testing.T, string)) running {
	t.Helper()
	return scenarioPublished(t, base, edit, prepare, "")
}

// scenarioPublished is scenario with the on-prem server published at
// public (see startDemoPublished).
func scenarioPublished(t *testing.T, base string, edit func(*onprem.Topology),
	prepare func(*testing.T, string), public string) running {
	t.Helper()
	dir := t.TempDir()
	if err := copyDir(base, dir); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(t, dir)
	}
	l := deploy.Layout{Dir: dir}
	if edit != nil {
		topo, err := onprem.LoadTopology(l.TopologyFile())
		if err != nil {
			t.Fatal(err)
		}
		edit(topo)
		if err := topo.Save(l.TopologyFile()); err != nil {
			t.Fatal(err)
		}
	}
	startDemoPublished(t, dir, public)
	d, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	return running{d: d, dir: dir}
}

func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		if e.Name() == ".lock" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
}

// target is the check of r's on-prem server, as the CLI builds it.
func (r running) target(t *testing.T) readiness.Target {
	t.Helper()
	l := deploy.Layout{Dir: r.dir}
	iss := issuerOf(t, l.Dir, r.d)
	return readiness.Target{URL: r.d.OnPremURL, Caller: "admin@" + r.d.Domain, Samples: 6,
		Token: func(upn, host string) (string, error) {
			return iss.S2SToken(upn, host, []string{"Mail.Read"}, time.Minute)
		},
		CloudURL: r.d.CloudURL,
		CloudToken: func() (string, error) {
			return iss.AppToken(auth.App{ClientID: "check",
				Roles: []string{"Directory.Read.All"}}, time.Minute)
		}}
}

// healthyTopology moves the 2013 database to the 2016 server and retires
// the 2013 server.
func healthyTopology(topo *onprem.Topology) {
	topo.Servers = []onprem.Server{{Name: demo.Ex2016Name, Build: demo.Ex2016CU23}}
	for i := range topo.Databases {
		topo.Databases[i].Server = demo.Ex2016Name
	}
	topo.FrontEnd = demo.Ex2016Name
}

var (
	ports = regexp.MustCompile(`(127\.0\.0\.1|\.contoso\.test):\d+`)
	dates = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	guids = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-` +
		`[0-9a-fA-F]{12}`)
)

// numberGUIDs replaces each distinct GUID, which the seed draws at random,
// with GUID-1, GUID-2, ... in order of first appearance, so that a report
// still shows which GUIDs differ.
func numberGUIDs(b []byte) []byte {
	seen := map[string]string{}
	return guids.ReplaceAllFunc(b, func(g []byte) []byte {
		k := strings.ToLower(string(g))
		if seen[k] == "" {
			seen[k] = fmt.Sprintf("GUID-%d", len(seen)+1)
		}
		return []byte(seen[k])
	})
}

// golden compares the report's text with testdata/name.golden, ports
// replaced since the kernel chooses them.
func golden(t *testing.T, name string, rep readiness.Report) {
	t.Helper()
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	got := ports.ReplaceAll(buf.Bytes(), []byte("$1:PORT"))
	got = dates.ReplaceAll(numberGUIDs(got), []byte("YYYY-MM-DD"))
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// check collects and analyses, and also checks that the saved collection
// gives the same report without the network.
func check(t *testing.T, target readiness.Target) readiness.Report {
	t.Helper()
	c, err := readiness.Collect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	rep := readiness.Analyse(c)
	path := filepath.Join(t.TempDir(), "collection.json")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	saved, err := readiness.LoadCollection(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, readiness.Analyse(saved)); diff != "" {
		t.Errorf("report of the saved collection (-live +saved):\n%s", diff)
	}
	return rep
}

func statusOf(rep readiness.Report, id string) readiness.Status {
	for _, r := range rep.Results {
		if r.ID == id {
			return r.Status
		}
	}
	return ""
}

func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts demo deployments")
	}
	base := seeded(t)
	for _, tc := range []struct {
		name string
		edit func(*onprem.Topology)
		// front serves a front door to onprem on ln, or is nil.
		front  func(t *testing.T, ln net.Listener, onprem string)
		dns    map[string]string              // name → address for the resolver
		cert   time.Duration                  // TLS front door certificate life left
		before func(t *testing.T, dir string) // changes the data before start
		// foreign signs the S2S tokens with a key the on-prem server does
		// not trust, as a check of another deployment's data would.
		foreign bool
		wantID  string
		want    readiness.Status
		exit    int
	}{
		{name: "demo", wantID: "R1", want: readiness.Fail, exit: 2},
		{name: "healthy", edit: healthyTopology, wantID: "R1", want: readiness.Pass, exit: 1},
		{name: "cu2", edit: func(topo *onprem.Topology) {
			healthyTopology(topo)
			topo.Servers[0].Build = "15.1.466.34"
		}, wantID: "R2", want: readiness.Fail, exit: 2},
		{name: "2013-in-array", edit: healthyTopology, front: with2013,
			wantID: "R4", want: readiness.Fail, exit: 2},
		{name: "dns-missing", edit: healthyTopology,
			dns:    map[string]string{"mail.contoso.test.": "203.0.113.10"},
			wantID: "R5", want: readiness.Fail, exit: 2},
		{name: "dns-private", edit: healthyTopology,
			dns: map[string]string{"mail.contoso.test.": "203.0.113.10",
				"autodiscover.contoso.test.": "10.1.2.3"},
			wantID: "R5", want: readiness.Warn, exit: 1},
		{name: "preauth-proxy", edit: healthyTopology, front: preauth,
			wantID: "R6", want: readiness.Fail, exit: 2},
		{name: "tls-valid", edit: healthyTopology, cert: 365 * 24 * time.Hour,
			wantID: "R6", want: readiness.Pass, exit: 1},
		{name: "tls-expiring", edit: healthyTopology, cert: 10 * 24 * time.Hour,
			wantID: "R6", want: readiness.Warn, exit: 1},
		{name: "tls-expired", edit: healthyTopology, cert: -24 * time.Hour,
			wantID: "R6", want: readiness.Fail, exit: 2},
		{name: "stale-sync", edit: healthyTopology, before: staleSync,
			wantID: "R3", want: readiness.Fail, exit: 2},
		{name: "guid-mismatch", edit: healthyTopology, before: cloudGUIDMismatch,
			wantID: "R3", want: readiness.Fail, exit: 2},
		{name: "foreign-token", edit: healthyTopology, foreign: true,
			wantID: "OAuth", want: readiness.Fail, exit: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A front door publishes the on-prem server: Autodiscover
			// answers its URL, as Exchange answers its ExternalUrl.
			var ln net.Listener
			public := ""
			if tc.front != nil || tc.cert != 0 {
				var err error
				if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
					t.Fatal(err)
				}
				public = "http://" + ln.Addr().String()
				if tc.cert != 0 {
					public = "https://" + ln.Addr().String()
				}
			}
			r := scenarioPublished(t, base, tc.edit, tc.before, public)
			target := r.target(t)
			if tc.front != nil {
				tc.front(t, ln, r.d.OnPremURL)
				target.URL = public
			}
			if tc.cert != 0 {
				pool := tlsFrontOn(t, ln, r.d.OnPremURL, tc.cert)
				target.URL = public
				target.HTTP = &http.Client{Timeout: 10 * time.Second,
					Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			}
			if tc.foreign {
				target.Token = foreignTokens(t, r.d)
			}
			if tc.dns != nil {
				target.Resolver = dnsServer(t, tc.dns)
				target.Namespace, target.AutodiscoverHost = "mail.contoso.test",
					"autodiscover.contoso.test"
			}
			rep := check(t, target)
			if got := statusOf(rep, tc.wantID); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.wantID, got, tc.want)
			}
			if got := rep.ExitCode(); got != tc.exit {
				t.Errorf("exit code: got %d, want %d", got, tc.exit)
			}
			golden(t, tc.name, rep)
		})
	}
}

// foreignTokens mints S2S tokens for d's on-prem server with a key of its
// own, which that server does not trust.
func foreignTokens(t *testing.T, d *deploy.Deployment) readiness.TokenFunc {
	t.Helper()
	key, err := auth.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	return func(upn, host string) (string, error) {
		return iss.S2SToken(upn, host, []string{"Mail.Read"}, time.Minute)
	}
}

// with2013 is a load balancer that sends every other request to an
// Exchange 2013 front end: the same back end, answering with 2013's
// version headers as a 2013 CAS in the array would.
func with2013(t *testing.T, ln net.Listener, backend string) {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if n.Add(1)%2 == 0 {
			resp.Header.Set("X-FEServer", "EX2013-02")
			resp.Header.Set("X-OWA-Version", demo.Ex2013CU23)
		}
		return nil
	}
	serveOn(t, ln, rp)
}

// serveOn serves h on ln until the test ends.
func serveOn(t *testing.T, ln net.Listener, h http.Handler) {
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
}

// tlsFrontOn serves a TLS reverse proxy to backend on ln, with a
// certificate from a new test CA for 127.0.0.1, mail.contoso.test and
// autodiscover.contoso.test, and returns the pool that trusts the CA.
func tlsFrontOn(t *testing.T, ln net.Listener, backend string, life time.Duration) *x509.CertPool {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: now.Add(-72 * time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2),
		Subject:   pkix.Name{CommonName: "mail.contoso.test"},
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(life),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"mail.contoso.test", "autodiscover.contoso.test"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{
		Handler: httputil.NewSingleHostReverseProxy(u)}}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der},
		PrivateKey: key}}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool
}

// preauth is a reverse proxy that pre-authenticates /api: anonymous
// requests are redirected to its login page; the rest passes through.
func preauth(t *testing.T, ln net.Listener, backend string) {
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	serveOn(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) >= 5 && r.URL.Path[:5] == "/api/" {
			http.Redirect(w, r, "/adfs/ls/?wa=wsignin1.0", http.StatusFound)
			return
		}
		rp.ServeHTTP(w, r)
	}))
}

// dnsServer serves A records for names on 127.0.0.1 and NXDOMAIN for the
// rest, as a public resolver would for a missing record.
func dnsServer(t *testing.T, names map[string]string) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		addr, ok := names[q.Question[0].Name]
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Question[0].Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name,
				Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(addr)})
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: h}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() {
		if err := srv.Shutdown(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("dns shutdown: %v", err)
		}
	})
	return pc.LocalAddr().String()
}

// TestCollectNames checks which names R5 looks up: the client namespace
// and autodiscover.<domain>, whatever URL Autodiscover is asked at; and
// that a check that knows only the discovery endpoint takes the client
// namespace from Autodiscover's answer.
func TestCollectNames(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo deployment")
	}
	r := scenario(t, seeded(t), healthyTopology, nil)
	resolver := dnsServer(t, map[string]string{"autodiscover.contoso.test.": "203.0.113.5",
		"localhost.": "203.0.113.6"})
	hosts := func(c *readiness.Collection) []string {
		var hs []string
		for _, l := range c.DNS {
			hs = append(hs, l.Host)
		}
		return hs
	}

	// Asked at the namespace itself, with the organisation's domain.
	target := r.target(t)
	target.Domain, target.Resolver = "contoso.test", resolver
	c, err := readiness.Collect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hosts(c), []string{"127.0.0.1", "autodiscover.contoso.test"}; !slices.Equal(got, want) {
		t.Errorf("looked up %q, want %q", got, want)
	}
	rep := readiness.Analyse(c)
	if got := statusOf(rep, "R5"); got != readiness.Warn {
		t.Errorf("R5: got %s, want WARN (an IP address namespace)", got)
	}

	// Only the discovery endpoint known, by another name (localhost):
	// the namespace is what Autodiscover answers (127.0.0.1).
	u, _ := url.Parse(r.d.OnPremURL)
	target = r.target(t)
	target.URL = "http://localhost:" + u.Port()
	// The S2S audience is the namespace, so the topology read at the
	// discovery host is refused: name the mailbox.
	target.Email = "carol@contoso.test"
	target.Domain, target.Resolver, target.NamespaceFromAutodiscover = "contoso.test",
		resolver, true
	c, err = readiness.Collect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != r.d.OnPremURL || c.Namespace != "127.0.0.1" {
		t.Errorf("namespace: got %s (%s), want %s from Autodiscover", c.URL, c.Namespace,
			r.d.OnPremURL)
	}
	if got, want := hosts(c), []string{"127.0.0.1", "autodiscover.contoso.test"}; !slices.Equal(got, want) {
		t.Errorf("looked up %q, want %q", got, want)
	}
	if c.Challenge.URL == "" || !strings.HasPrefix(c.Challenge.URL, r.d.OnPremURL) {
		t.Errorf("/api probed at %q, want the answered namespace %s", c.Challenge.URL,
			r.d.OnPremURL)
	}

	// Without following, a discovery host that is not the namespace fails R5.
	target.NamespaceFromAutodiscover = false
	c, err = readiness.Collect(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	if got := statusOf(readiness.Analyse(c), "R5"); got != readiness.Fail {
		t.Errorf("R5 with Autodiscover answering another host: got %s, want FAIL", got)
	}
}

// TestHealthyPublished checks a deployment that meets every requirement:
// Exchange 2016 only, synced, its namespace mail.contoso.test and
// autodiscover.contoso.test in (the test's) public DNS, published over TLS
// with a valid certificate through a front door that passes /api through,
// and Autodiscover answering with the namespace. Every check passes and
// the exit status is 0.
func TestHealthyPublished(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo deployment")
	}
	dir := t.TempDir()
	if err := copyDir(seeded(t), dir); err != nil {
		t.Fatal(err)
	}
	l := deploy.Layout{Dir: dir}
	topo, err := onprem.LoadTopology(l.TopologyFile())
	if err != nil {
		t.Fatal(err)
	}
	healthyTopology(topo)
	if err := topo.Save(l.TopologyFile()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	public := "https://mail.contoso.test:" + port
	startDemoPublished(t, dir, public)
	d, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	pool := tlsFrontOn(t, ln, d.OnPremURL, 365*24*time.Hour)
	// The names resolve to a public address in the test's DNS; the check's
	// connections to them reach the front door on loopback.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if host, p, _ := net.SplitHostPort(addr); strings.HasSuffix(host, ".contoso.test") {
				addr = net.JoinHostPort("127.0.0.1", p)
			}
			return dialer.DialContext(ctx, network, addr)
		}}
	r := running{d: d, dir: dir}
	target := r.target(t)
	target.URL, target.Domain = public, "contoso.test"
	target.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: transport}
	target.Resolver = dnsServer(t, map[string]string{"mail.contoso.test.": "203.0.113.10",
		"autodiscover.contoso.test.": "203.0.113.10"})
	rep := check(t, target)
	for _, res := range rep.Results {
		if res.Status != readiness.Pass {
			t.Errorf("%s: %s, want PASS: %v", res.ID, res.Status, res.Evidence)
		}
	}
	if got := rep.ExitCode(); got != 0 {
		t.Errorf("exit code: got %d, want 0", got)
	}
	golden(t, "healthy-published", rep)
}
