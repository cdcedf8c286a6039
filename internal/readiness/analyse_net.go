package readiness

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

func checkR5(c *Collection) Result {
	r := newResult("R5", "the Autodiscover and client namespaces resolve in public DNS")
	for _, l := range c.DNS {
		checkLookup(r, l)
	}
	checkDiscoveredURL(r, c)
	return r.done("Publish A records for the names above with the public address of " +
		"the Exchange front end, and make Autodiscover answer with the client namespace.")
}

func checkLookup(r *result, l Lookup) {
	switch {
	case l.IPLiteral:
		r.add(Warn, "%s is an IP address, not a name in public DNS", l.Host)
	case l.Error != "":
		r.add(Fail, "%s: lookup failed: %s", l.Host, l.Error)
	case l.Rcode != "" && l.Rcode != "NOERROR":
		r.add(Fail, "%s: %s", l.Host, l.Rcode)
	case len(l.Addresses) == 0:
		r.add(Fail, "%s: no A or AAAA record", l.Host)
	default:
		for _, a := range l.Addresses {
			ip := net.ParseIP(a)
			if ip == nil || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() ||
				ip.IsUnspecified() {
				r.add(Warn, "%s resolves to %s, a private address in public DNS", l.Host, a)
			} else {
				r.add(Pass, "%s resolves to %s", l.Host, a)
			}
		}
	}
}

// checkDiscoveredURL checks that Autodiscover v2 answers Protocol=Rest
// with a URL on the client namespace (exchange-hybrid.md §2.2, §6.2 R5).
func checkDiscoveredURL(r *result, c *Collection) {
	a := c.Autodiscover
	switch {
	case c.Email == "":
		r.add(Warn, "Autodiscover not asked: no on-prem mailbox known (give one)")
		return
	case a.Error != "" || a.Status != http.StatusOK:
		r.add(Fail, "Autodiscover for %s: %s", c.Email, outcome(a))
		return
	}
	var ans struct{ Protocol, URL string }
	if err := json.Unmarshal([]byte(a.Body), &ans); err != nil {
		r.add(Fail, "Autodiscover for %s: answer is not JSON: %v", c.Email, err)
		return
	}
	want, _ := url.Parse(c.URL)
	got, err := url.Parse(ans.URL)
	switch {
	case !strings.EqualFold(ans.Protocol, "Rest"):
		r.add(Fail, "Autodiscover for %s answered protocol %q, want Rest", c.Email, ans.Protocol)
	case err != nil || want == nil || !strings.EqualFold(got.Hostname(), want.Hostname()):
		r.add(Fail, "Autodiscover for %s answered %s, not on the client namespace %s",
			c.Email, ans.URL, c.URL)
	case !strings.EqualFold(got.Scheme, want.Scheme) || port(got) != port(want):
		r.add(Fail, "Autodiscover for %s answered %s, on the namespace's host but not at %s "+
			"(scheme or port differ): the cloud would call another endpoint than the one "+
			"checked", c.Email, ans.URL, c.URL)
	default:
		r.add(Pass, "Autodiscover for %s answered Rest at %s", c.Email, ans.URL)
	}
}

// port is u's port, or its scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// errorCodeOf is ", code X" for a body with an Outlook REST or Graph error
// code, or "".
func errorCodeOf(body string) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code == "" {
		return ""
	}
	return ", code " + e.Error.Code
}

func orNone(s string) string {
	if s == "" {
		return "no Content-Type"
	}
	return s
}

// outcome says how a probe ended.
func outcome(p Probe) string {
	if p.Error != "" {
		return p.Error
	}
	s := fmt.Sprintf("HTTP %d", p.Status)
	if loc := p.Header["Location"]; loc != "" {
		s += " to " + loc
	}
	return s
}

func checkR6(c *Collection) Result {
	r := newResult("R6", "discovery and /api are reachable without pre-authentication")
	a := c.Autodiscover
	switch {
	case c.Email == "":
		r.add(Warn, "Autodiscover not asked: no on-prem mailbox known")
	case a.Error == "" && a.Status == http.StatusOK:
		r.add(Pass, "Autodiscover answered HTTP 200")
	default:
		r.add(Fail, "Autodiscover: %s", outcome(a))
	}
	checkChallenge(r, c.Challenge)
	checkTransport(r, c)
	return r.done("Publish /autodiscover and /api without pre-authentication (pass-through " +
		"at the reverse proxy), over TLS with a valid certificate for the namespace.")
}

// checkChallenge wants Exchange's own 401 with a Bearer challenge to an
// empty bearer token, not a proxy's redirect, 403 or login page (§3.4).
func checkChallenge(r *result, p Probe) {
	ch := p.Header["WWW-Authenticate"]
	ct := p.Header["Content-Type"]
	switch {
	case p.Error != "":
		r.add(Fail, "/api: %s", p.Error)
	case p.Status == http.StatusUnauthorized &&
		strings.HasPrefix(strings.ToLower(ch), "bearer"):
		r.add(Pass, "/api answered 401 with a Bearer challenge")
	case p.Status >= 300 && p.Status < 400:
		r.add(Fail, "/api redirected (HTTP %d to %s): a pre-authenticating proxy?",
			p.Status, p.Header["Location"])
	case p.Status == http.StatusForbidden:
		r.add(Fail, "/api answered 403: blocked in front of Exchange")
	case strings.HasPrefix(ct, "text/html"):
		r.add(Fail, "/api answered HTTP %d with a web page (a login page?)", p.Status)
	case p.Status == http.StatusUnauthorized:
		r.add(Fail, "/api answered 401 without a Bearer challenge (%q)", ch)
	default:
		r.add(Fail, "/api answered HTTP %d, want 401 with a Bearer challenge", p.Status)
	}
}

// checkTransport wants TLS with a certificate not about to expire.
func checkTransport(r *result, c *Collection) {
	u, err := url.Parse(c.URL)
	if err != nil || u.Scheme != "https" {
		r.add(Warn, "%s is plain http: the cloud reaches Exchange over TLS only", c.URL)
		return
	}
	cert := c.Challenge.Cert
	if cert == nil && c.Challenge.Error != "" {
		return // the /api probe's failure says why (checkChallenge)
	}
	if cert == nil {
		r.add(Fail, "no TLS certificate seen on %s", c.URL)
		return
	}
	left := cert.NotAfter.Sub(c.Finished)
	switch {
	case left <= 0:
		r.add(Fail, "certificate %s expired on %s", cert.Subject, cert.NotAfter.Format("2006-01-02"))
	case left < CertWarning:
		r.add(Warn, "certificate %s expires on %s, within %d days", cert.Subject,
			cert.NotAfter.Format("2006-01-02"), int(CertWarning.Hours()/24))
	default:
		r.add(Pass, "certificate %s valid until %s", cert.Subject,
			cert.NotAfter.Format("2006-01-02"))
	}
}

func checkOAuth(c *Collection) Result {
	r := newResult("OAuth", "the on-prem server accepts the cloud's server-to-server token")
	// Both the topology and the mailbox read carry the cloud's S2S token:
	// a 401 to either is evidence, whether or not a mailbox was known.
	topo := c.TopologyProbe
	if tokenRefused(topo) {
		r.add(Fail, "admin topology read with an S2S token: %s", refusal(topo))
	}
	p := c.OAuth
	switch {
	case p.Skipped != "" && tokenRefused(topo):
		r.add(Fail, "no mailbox read: %s, and the token was refused already", p.Skipped)
	case p.Skipped != "":
		r.add(Warn, "not checked: %s", p.Skipped)
	case p.Status == http.StatusOK && isJSON(p.Header["Content-Type"]):
		r.add(Pass, "%s read with an S2S token: HTTP 200", c.Email)
	case p.Status == http.StatusOK:
		r.add(Fail, "%s read with an S2S token: HTTP 200 with %s, not Outlook REST's JSON "+
			"(a login page or a proxy's answer?)", c.Email, orNone(p.Header["Content-Type"]))
	case p.Error != "" || p.Status < http.StatusBadRequest ||
		p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
		// Refused, redirected (a proxy's login) or unreachable: the cloud
		// cannot read the mailbox with its token.
		r.add(Fail, "%s read with an S2S token: %s", c.Email, refusal(p))
	default:
		// The token got past authentication, or never reached it: the read
		// proves nothing about the trust either way.
		r.add(Warn, "%s read with an S2S token: %s%s: the token was not refused, but the "+
			"read proves nothing of the trust", c.Email, outcome(p), errorCodeOf(p.Body))
	}
	return r.done("Check the auth server and partner application on Exchange " +
		"(Get-AuthServer, Get-PartnerApplication) and Test-OAuthConnectivity, and that no " +
		"proxy in front of /api pre-authenticates or rewrites the request.")
}
