package readiness

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// CertWarning is how close to expiry a certificate draws a warning.
const CertWarning = 30 * 24 * time.Hour

// Analyse turns a collection into a report. It is a pure function of c:
// the same collection always gives the same report.
func Analyse(c *Collection) Report {
	return Report{URL: c.URL, Results: []Result{
		checkR1(c), checkR2(c), checkR3(c), checkR4(c), checkR5(c), checkR6(c), checkOAuth(c),
	}}
}

// result builds a Result whose status is the worst of the findings.
type result struct{ Result }

func newResult(id, title string) *result {
	return &result{Result{ID: id, Title: title, Status: Pass, Evidence: []string{}}}
}

// add records one piece of evidence with its status.
func (r *result) add(s Status, format string, args ...any) {
	if s.rank() > r.Status.rank() {
		r.Status = s
	}
	r.Evidence = append(r.Evidence, fmt.Sprintf(format, args...))
}

// done sets the action when the check did not pass.
func (r *result) done(action string) Result {
	if r.Status != Pass {
		r.Action = action
	}
	return r.Result
}

// noTopology explains a missing admin topology.
func noTopology(c *Collection) string {
	p := c.TopologyProbe
	if tokenRefused(p) {
		return "no admin topology: the on-prem server refused the cloud's " +
			"server-to-server token (" + refusal(p) + "; see OAuth)"
	}
	why := p.Error
	if p.Skipped != "" {
		why = p.Skipped
	} else if why == "" {
		why = fmt.Sprintf("HTTP %d", p.Status)
	}
	return "no admin topology (" + why + "); the server may be a real Exchange server"
}

// tokenRefused reports whether p, a request made with the cloud's
// server-to-server token, was answered 401: the on-prem server does not
// accept the token, which is itself the OAuth finding (exchange-hybrid.md
// §3.4, §6.2: Test-OAuthConnectivity reports "(401) Unauthorized").
func tokenRefused(p Probe) bool {
	return p.Skipped == "" && p.Error == "" && p.Status == http.StatusUnauthorized
}

// refusal is a 401's status with its challenge, which says why.
func refusal(p Probe) string {
	return strings.TrimSpace(outcome(p) + " " + p.Header["WWW-Authenticate"])
}

// describe names a server and its build.
func describe(s onprem.Server) string {
	b, err := onprem.ParseBuild(s.Build)
	if err != nil {
		return fmt.Sprintf("%s (unreadable build %q)", s.Name, s.Build)
	}
	return fmt.Sprintf("%s (%s, %s)", s.Name, b, BuildName(b))
}

func checkR1(c *Collection) Result {
	r := newResult("R1", "every on-prem mailbox is on a database hosted by Exchange 2016 or later")
	t := c.Topology
	if t == nil {
		r.add(Warn, "not checked: %s", noTopology(c))
		return r.done("Check Get-Mailbox | fl Database,ServerName and each server's " +
			"AdminDisplayVersion on the Exchange server.")
	}
	if len(t.Mailboxes) == 0 {
		r.add(Warn, "the topology lists no on-prem mailbox")
	}
	var move []string
	for _, m := range t.Mailboxes {
		srv, ok := t.DatabaseServer(m.Database)
		if !ok {
			r.add(Fail, "%s: database %s is hosted by no known server", m.UPN, m.Database)
			move = append(move, m.UPN)
			continue
		}
		b, err := onprem.ParseBuild(srv.Build)
		if err != nil || !is2016OrLater(b) {
			r.add(Fail, "%s: database %s on %s", m.UPN, m.Database, describe(srv))
			move = append(move, m.UPN)
			continue
		}
		r.add(Pass, "%s: database %s on %s", m.UPN, m.Database, describe(srv))
	}
	action := "Check that the topology lists the on-prem mailboxes (Get-Mailbox)."
	if len(move) > 0 {
		action = "Move " + strings.Join(move, ", ") + " to a database on an Exchange 2016 " +
			"CU3 or later server (New-MoveRequest); REST hybrid needs Exchange 2016 CU3 or later."
	}
	return r.done(action)
}

func checkR2(c *Collection) Result {
	r := newResult("R2", "every Exchange 2016 server is at CU3 (15.1.544.27) or later")
	servers := topologyServers(c)
	if servers == nil {
		servers = sampledServers(c)
		if len(servers) > 0 {
			r.add(Pass, "servers from the version headers only: %s", noTopology(c))
		}
	}
	n := 0
	for _, s := range servers {
		b, err := onprem.ParseBuild(s.Build)
		if err != nil || b[0] != 15 || b[1] != 1 {
			continue
		}
		n++
		if b.Less(onprem.CU3) {
			r.add(Fail, "%s: below Exchange 2016 CU3 (%s)", describe(s), onprem.CU3)
		} else {
			r.add(Pass, "%s", describe(s))
		}
	}
	if n == 0 {
		if servers == nil {
			r.add(Warn, "not checked: no topology and no version header seen")
		} else {
			r.add(Pass, "no Exchange 2016 server found")
		}
	}
	return r.done("Install the latest Exchange 2016 Cumulative Update (CU23) and its " +
		"Security Update on the servers named above.")
}

// topologyServers lists the topology's servers, nil without a topology.
func topologyServers(c *Collection) []onprem.Server {
	if c.Topology == nil {
		return nil
	}
	return append([]onprem.Server{}, c.Topology.Servers...)
}

// sampledServers are the distinct front ends the samples named.
func sampledServers(c *Collection) []onprem.Server {
	var out []onprem.Server
	seen := map[string]bool{}
	for _, s := range c.Samples {
		if s.OWAVersion == "" || seen[s.FEServer+"/"+s.OWAVersion] {
			continue
		}
		seen[s.FEServer+"/"+s.OWAVersion] = true
		name := s.FEServer
		if name == "" {
			name = "(unnamed front end)"
		}
		out = append(out, onprem.Server{Name: name, Build: s.OWAVersion})
	}
	return out
}

func checkR4(c *Collection) Result {
	r := newResult("R4", "no Exchange 2013 server answers in the array with Exchange 2016")
	if t := c.Topology; t != nil {
		if fe, ok := t.Server(t.FrontEnd); ok {
			b, err := onprem.ParseBuild(fe.Build)
			s := Pass
			if err != nil || IsExchange2013(b) {
				s = Fail
			}
			r.add(s, "topology: the namespace's front end is %s", describe(fe))
		}
	}
	counts := map[string]int{}
	var order []string
	failed := 0
	for _, s := range c.Samples {
		if s.Error != "" || s.OWAVersion == "" {
			failed++
			continue
		}
		key := s.FEServer + " " + s.OWAVersion
		if counts[key] == 0 {
			order = append(order, key)
		}
		counts[key]++
	}
	// Most answers first, then by name, so that a report does not depend
	// on which front end the balancer happened to pick first.
	slices.SortFunc(order, func(a, b string) int {
		if d := counts[b] - counts[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, k := range order {
		name, ver, _ := strings.Cut(k, " ")
		b, err := onprem.ParseBuild(ver)
		st, what := Pass, "unreadable build"
		if err == nil {
			what = BuildName(b)
			if IsExchange2013(b) {
				st = Fail
			}
		}
		r.add(st, "sampled: %s answered %d of %d requests with %s (%s)",
			name, counts[k], len(c.Samples), ver, what)
	}
	if failed > 0 {
		r.add(Warn, "sampled: %d of %d requests gave no version header", failed, len(c.Samples))
	}
	if len(r.Evidence) == 0 {
		r.add(Warn, "not checked: no front end in a topology and no request sampled")
	}
	if r.Status == Warn {
		return r.done("Check every server behind the namespace with Get-ExchangeServer: " +
			"the requests did not show which front end answered.")
	}
	return r.done("Remove the Exchange 2013 servers from the load-balanced namespace " +
		"so that only Exchange 2016 CU3 or later answers.")
}
