package readiness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// DefaultSamples is how many requests sample the namespace's front ends;
// MaxSamples bounds what may be asked for.
const (
	DefaultSamples = 20
	MaxSamples     = 1000
)

// TokenFunc mints a server-to-server token for the user upn, addressed to
// the on-prem server at host, as the cloud does when it proxies a request.
type TokenFunc func(upn, host string) (string, error)

// Target describes the deployment to check.
type Target struct {
	// URL is the on-prem server's base URL on the client namespace,
	// e.g. https://mail.contoso.com.
	URL string
	// AutodiscoverURL is where Autodiscover is asked; default URL.
	AutodiscoverURL string
	// Namespace and AutodiscoverHost are the names to look up in DNS; by
	// default the host of URL, and autodiscover.<Domain> (the name clients
	// and the cloud find Autodiscover by) or, without Domain, the host of
	// AutodiscoverURL.
	Namespace, AutodiscoverHost string
	// Domain is the organisation's SMTP domain, e.g. contoso.com.
	Domain string
	// NamespaceFromAutodiscover takes the client namespace from
	// Autodiscover's answer when it names another host than URL: URL is
	// then only where Autodiscover and the admin topology are asked (a
	// configuration that names its discovery endpoint but not the
	// namespace).
	NamespaceFromAutodiscover bool
	// Email is the on-prem mailbox to discover and read. Empty: the first
	// mailbox on a REST-capable server of the admin topology.
	Email string
	// Caller names the user in the token for the admin topology when no
	// Email is given.
	Caller string
	// Token mints server-to-server tokens; nil skips the admin topology
	// and the OAuth check.
	Token TokenFunc
	// Resolver is the DNS server (host:port); empty: the system's first.
	Resolver string
	// Samples is how many requests sample the front ends (default 20).
	Samples int
	// HTTP sends the requests; redirects are never followed, since a
	// redirect is itself a finding.
	HTTP *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CloudURL is the cloud gateway's base URL, whose directory-sync state
	// R3 reads; empty skips it.
	CloudURL string
	// CloudToken mints an app token that may read the directory
	// (Directory.Read.All); nil skips the cloud directory.
	CloudToken func() (string, error)
}

// Collect observes the deployment t describes. Failures of the deployment
// are recorded in the Collection; the error is for a target that cannot
// be checked at all.
func Collect(ctx context.Context, t Target) (*Collection, error) {
	t, err := t.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Collection{URL: t.URL, AutodiscoverURL: t.AutodiscoverURL,
		Namespace: t.Namespace, AutodiscoverHost: t.AutodiscoverHost, Started: t.Now().UTC()}
	p := prober{t: t}
	c.Topology, c.TopologyProbe = p.topology(ctx)
	c.CloudDirectory, c.CloudProbe = p.cloudDirectory(ctx)
	if err := knownMailbox(t.Email, c); err != nil {
		return nil, err
	}
	c.Email = t.Email
	if c.Email == "" {
		c.Email = probeMailbox(c.Topology)
	}
	if c.Email == "" {
		// Without a topology (a real Exchange, or one that refused the
		// token), an on-prem mailbox the cloud directory knows will do.
		c.Email = cloudOnPremMailbox(c.CloudDirectory)
	}
	if c.Email != "" {
		c.Autodiscover = p.autodiscover(ctx, c.Email)
	}
	if ns := answeredOrigin(c.Autodiscover); t.NamespaceFromAutodiscover && ns != nil &&
		!strings.EqualFold(ns.Hostname(), t.Namespace) {
		t.URL, t.Namespace = ns.Scheme+"://"+ns.Host, ns.Hostname()
		c.URL, c.Namespace = t.URL, t.Namespace
		p = prober{t: t}
	}
	c.Samples = p.samples(ctx)
	c.DNS = append(c.DNS, p.lookup(ctx, t.Namespace))
	if !strings.EqualFold(t.AutodiscoverHost, t.Namespace) {
		c.DNS = append(c.DNS, p.lookup(ctx, t.AutodiscoverHost))
	}
	// Test-HMAEAS sends exactly this: a bearer scheme with no token
	// (exchange-hybrid.md §3.4).
	c.Challenge = p.get(ctx, t.URL+"/api/v2.0/me/messages", "Bearer", 0)
	c.OAuth = p.oauth(ctx, c.Email)
	c.Finished = t.Now().UTC()
	return c, nil
}

func (t Target) withDefaults() (Target, error) {
	t.URL = strings.TrimSuffix(t.URL, "/")
	u, err := url.Parse(t.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return t, fmt.Errorf("target URL %q: want http(s)://host[:port]", t.URL)
	}
	if t.AutodiscoverURL == "" {
		t.AutodiscoverURL = t.URL
	}
	t.AutodiscoverURL = strings.TrimSuffix(t.AutodiscoverURL, "/")
	a, err := url.Parse(t.AutodiscoverURL)
	if err != nil || a.Host == "" {
		return t, fmt.Errorf("autodiscover URL %q: want http(s)://host[:port]", t.AutodiscoverURL)
	}
	if t.Namespace == "" {
		t.Namespace = u.Hostname()
	}
	if t.AutodiscoverHost == "" && t.Domain != "" {
		t.AutodiscoverHost = "autodiscover." + strings.ToLower(t.Domain)
	}
	if t.AutodiscoverHost == "" {
		t.AutodiscoverHost = a.Hostname()
	}
	if t.Caller == "" {
		t.Caller = "readiness-check"
	}
	if t.Samples <= 0 {
		t.Samples = DefaultSamples
	}
	if t.Now == nil {
		t.Now = time.Now
	}
	t.HTTP = noRedirects(t.HTTP)
	return t, nil
}

// noRedirects returns a copy of c (or a default client) that hands every
// redirect back to the caller.
func noRedirects(c *http.Client) *http.Client {
	var n http.Client
	if c != nil {
		n = *c
	} else {
		n.Timeout = 10 * time.Second
	}
	n.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &n
}

// knownMailbox checks the mailbox the check was told to probe against
// what the deployment knows, as far as the collection can tell: a cloud
// mailbox, or one neither directory holds, would fail R5, R6 and OAuth
// with advice about a deployment that may well be sound. An on-prem
// mailbox the cloud lacks is R3's finding, not a mistake of the caller.
func knownMailbox(email string, c *Collection) error {
	if email == "" {
		return nil
	}
	if c.CloudDirectory != nil {
		for _, u := range c.CloudDirectory.Users {
			if !strings.EqualFold(u.UPN, email) && !strings.EqualFold(u.Mail, email) {
				continue
			}
			if u.Premises != string(directory.OnPrem) {
				return fmt.Errorf("mailbox %s is in the %s, not on premises: "+
					"name an on-prem mailbox", email, u.Premises)
			}
			return nil
		}
	}
	if c.Topology != nil {
		for _, m := range c.Topology.Mailboxes {
			if strings.EqualFold(m.UPN, email) {
				return nil
			}
		}
	}
	if c.CloudDirectory != nil {
		return fmt.Errorf("mailbox %s is in neither the cloud directory nor the on-prem "+
			"topology: name an on-prem mailbox", email)
	}
	return nil // neither directory was read: the probes will tell
}

// probeMailbox picks the first mailbox on a REST-capable server, or else
// the first mailbox, whose failures then show what is wrong.
func probeMailbox(topo *onprem.AdminTopology) string {
	if topo == nil || len(topo.Mailboxes) == 0 {
		return ""
	}
	for _, m := range topo.Mailboxes {
		srv, ok := topo.DatabaseServer(m.Database)
		if b, err := onprem.ParseBuild(srv.Build); ok && err == nil && b.ServesREST() {
			return m.UPN
		}
	}
	return topo.Mailboxes[0].UPN
}

// cloudOnPremMailbox is the first on-prem mailbox of the cloud's directory
// (by UPN), or "".
func cloudOnPremMailbox(st *dirsync.State) string {
	if st == nil {
		return ""
	}
	best := ""
	for _, u := range st.Users {
		if u.Premises == string(directory.OnPrem) && (best == "" || u.UPN < best) {
			best = u.UPN
		}
	}
	return best
}

// prober sends the requests of one collection.
type prober struct{ t Target }

// keptHeaders are the answer headers the checks read.
var keptHeaders = []string{"WWW-Authenticate", "Location", "Content-Type",
	"X-FEServer", "X-OWA-Version"}

// get sends GET u with the Authorization header authz (none when "") and
// keeps up to bodyLimit bytes of the answer's body.
func (p prober) get(ctx context.Context, u, authz string, bodyLimit int64) Probe {
	pr := Probe{URL: u, At: p.t.Now().UTC()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		pr.Error = err.Error()
		return pr
	}
	req.Header.Set("Accept", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := p.t.HTTP.Do(req)
	if err != nil {
		pr.Error = errText(err)
		return pr
	}
	defer resp.Body.Close()
	pr.Status = resp.StatusCode
	pr.Header = map[string]string{}
	for _, h := range keptHeaders {
		if v := resp.Header.Get(h); v != "" {
			pr.Header[h] = v
		}
	}
	pr.Cert = certOf(resp.TLS)
	if bodyLimit > 0 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
		pr.Body = string(b)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return pr
}

func certOf(cs *tls.ConnectionState) *Cert {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	return &Cert{Subject: leaf.Subject.String(), DNSNames: leaf.DNSNames, NotAfter: leaf.NotAfter}
}

// topology asks the admin endpoint; a server without one answers 404.
func (p prober) topology(ctx context.Context) (*onprem.AdminTopology, Probe) {
	u := p.t.URL + onprem.AdminTopologyPath
	if p.t.Token == nil {
		return nil, Probe{URL: u, At: p.t.Now().UTC(), Skipped: "no token source"}
	}
	upn := p.t.Email
	if upn == "" {
		upn = p.t.Caller
	}
	tok, err := p.t.Token(upn, hostOf(p.t.URL))
	if err != nil {
		return nil, Probe{URL: u, At: p.t.Now().UTC(), Error: "mint token: " + err.Error()}
	}
	// The topology lists every on-prem mailbox, so it is read whole (up
	// to maxTopology) and kept parsed; only a body that is not one is kept,
	// cut to MaxProbeBody, to show what answered instead.
	pr := p.get(ctx, u, "Bearer "+tok, maxTopology)
	if pr.Status != http.StatusOK {
		pr.Body = cut(pr.Body, MaxProbeBody)
		return nil, pr
	}
	var topo onprem.AdminTopology
	if err := json.Unmarshal([]byte(pr.Body), &topo); err != nil {
		pr.Error = "parse topology: " + err.Error()
		pr.Body = cut(pr.Body, MaxProbeBody)
		return nil, pr
	}
	pr.Body = "" // kept in Collection.Topology
	return &topo, pr
}

// samples requests the namespace repeatedly and records the front end
// and build that answered each time (exchange-hybrid.md §4, §6.2 R4).
func (p prober) samples(ctx context.Context) []Sample {
	out := make([]Sample, 0, p.t.Samples)
	for range p.t.Samples {
		if ctx.Err() != nil {
			break // stopped: keep what was sampled
		}
		pr := p.get(ctx, p.t.URL+"/api/", "", 0)
		out = append(out, Sample{At: pr.At, Status: pr.Status, Error: pr.Error,
			FEServer: pr.Header["X-FEServer"], OWAVersion: pr.Header["X-OWA-Version"]})
	}
	return out
}

// autodiscover asks Autodiscover v2 for the mailbox's REST URL, as the
// cloud does (exchange-hybrid.md §2.1, anonymous).
func (p prober) autodiscover(ctx context.Context, email string) Probe {
	u := p.t.AutodiscoverURL + "/autodiscover/autodiscover.json?Email=" +
		url.QueryEscape(email) + "&Protocol=Rest"
	return p.get(ctx, u, "", MaxProbeBody)
}

// answeredOrigin is the origin of the URL in a successful Autodiscover
// answer, or nil.
func answeredOrigin(a Probe) *url.URL {
	if a.Error != "" || a.Status != http.StatusOK {
		return nil
	}
	var ans struct{ URL string }
	if json.Unmarshal([]byte(a.Body), &ans) != nil {
		return nil
	}
	u, err := url.Parse(ans.URL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}
}

// oauth reads one message of the mailbox with a server-to-server token.
func (p prober) oauth(ctx context.Context, email string) Probe {
	u := p.t.URL + "/api/v2.0/users('" + url.PathEscape(email) + "')/messages?$top=1"
	switch {
	case p.t.Token == nil:
		return Probe{URL: u, At: p.t.Now().UTC(), Skipped: "no token source"}
	case email == "":
		return Probe{URL: u, At: p.t.Now().UTC(), Skipped: "no on-prem mailbox known"}
	}
	tok, err := p.t.Token(email, hostOf(p.t.URL))
	if err != nil {
		return Probe{URL: u, At: p.t.Now().UTC(), Error: "mint token: " + err.Error()}
	}
	// An error answer's body says why (Outlook REST's error code); a
	// mailbox's messages are not kept.
	pr := p.get(ctx, u, "Bearer "+tok, MaxProbeBody)
	if pr.Status == http.StatusOK && isJSON(pr.Header["Content-Type"]) {
		pr.Body = ""
	}
	return pr
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/json")
}

// maxTopology bounds the admin topology read: 8 MiB, some 50,000
// mailboxes, leaving room within MaxCollectionSize for the rest.
const maxTopology = 8 << 20

// cut is s without what lies past n bytes.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// isIP reports whether host is an address literal.
func isIP(host string) bool { return net.ParseIP(strings.Trim(host, "[]")) != nil }

var errNoResolver = errors.New("no DNS resolver configured")

// errText says why a request failed, naming certificate problems plainly
// (the x509 messages carry the current time, which a report must not).
func errText(err error) string {
	var (
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
	)
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "TLS certificate expired or not yet valid"
	case errors.As(err, &invalid):
		return "TLS certificate invalid: " + invalid.Error()
	case errors.As(err, &host):
		return "TLS certificate not valid for " + host.Host
	case errors.As(err, &unknown):
		return "TLS certificate signed by an unknown authority"
	}
	return err.Error()
}
