package readiness

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

func TestBuildName(t *testing.T) {
	for _, tc := range []struct{ build, want string }{
		{"15.1.544.27", "Exchange 2016 CU3"},
		{"15.1.466.34", "Exchange 2016 CU2"},
		{"15.1.2507.66", "Exchange 2016 CU23 or a later update"},
		{"15.0.1497.2", "Exchange 2013 CU23"},
		{"15.0.400.1", "Exchange 2013 (before Exchange 2013 RTM)"},
		{"15.2.1748.10", "Exchange 2019 CU15"},
		{"15.2.2562.37", "Exchange Server SE RTM or a later update"},
		{"14.3.123.4", "unknown Exchange version 14.3"},
	} {
		t.Run(tc.build, func(t *testing.T) {
			b, err := onprem.ParseBuild(tc.build)
			if err != nil {
				t.Fatal(err)
			}
			if got := BuildName(b); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// statuses maps each result ID to its status.
func statuses(r Report) map[string]Status {
	m := map[string]Status{}
	for _, res := range r.Results {
		m[res.ID] = res.Status
	}
	return m
}

// healthy is a collection of a deployment that passes every check but R3
// (not implemented) and R6's TLS (plain http).
func healthy() *Collection {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := Sample{At: now, Status: 401, FEServer: "EX2016-01", OWAVersion: "15.1.2507.6"}
	return &Collection{
		URL: "https://mail.contoso.com", AutodiscoverURL: "https://autodiscover.contoso.com",
		Namespace: "mail.contoso.com", AutodiscoverHost: "autodiscover.contoso.com",
		Email: "carol@contoso.com", Started: now, Finished: now,
		Topology: &onprem.AdminTopology{
			Topology: onprem.Topology{
				Servers:   []onprem.Server{{Name: "EX2016-01", Build: "15.1.2507.6"}},
				Databases: []onprem.Database{{Name: "DB1", Server: "EX2016-01"}},
				FrontEnd:  "EX2016-01",
			},
			Mailboxes: []onprem.MailboxLocation{{UPN: "carol@contoso.com", Database: "DB1"}},
		},
		Samples: []Sample{ok, ok},
		DNS: []Lookup{{Host: "mail.contoso.com", Rcode: "NOERROR", Addresses: []string{"203.0.113.7"}},
			{Host: "autodiscover.contoso.com", Rcode: "NOERROR",
				Addresses: []string{"203.0.113.7"}}},
		Autodiscover: Probe{Status: 200,
			Body: `{"Protocol":"Rest","Url":"https://mail.contoso.com/api"}`},
		Challenge: Probe{Status: 401, Header: map[string]string{"WWW-Authenticate": "Bearer x"},
			Cert: &Cert{Subject: "CN=mail.contoso.com", NotAfter: now.AddDate(1, 0, 0)}},
		OAuth: Probe{Status: 200, Header: map[string]string{
			"Content-Type": "application/json; odata.metadata=minimal"}},
	}
}

func TestAnalyse(t *testing.T) {
	base := map[string]Status{"R1": Pass, "R2": Pass, "R3": Warn, "R4": Pass, "R5": Pass,
		"R6": Pass, "OAuth": Pass}
	for _, tc := range []struct {
		name   string
		change func(c *Collection)
		want   map[string]Status
	}{
		{"healthy", func(*Collection) {}, nil},
		{"2013 database", func(c *Collection) {
			c.Topology.Servers = append(c.Topology.Servers,
				onprem.Server{Name: "EX2013", Build: "15.0.1497.2"})
			c.Topology.Databases[0].Server = "EX2013"
		}, map[string]Status{"R1": Fail}},
		{"CU2", func(c *Collection) { c.Topology.Servers[0].Build = "15.1.466.34" },
			map[string]Status{"R2": Fail}},
		{"2013 sampled", func(c *Collection) {
			c.Samples[1].OWAVersion = "15.0.1497.2"
		}, map[string]Status{"R4": Fail}},
		{"no topology, headers", func(c *Collection) {
			c.Topology = nil
			c.TopologyProbe = Probe{Status: 404}
		}, map[string]Status{"R1": Warn}},
		{"nxdomain", func(c *Collection) { c.DNS[1] = Lookup{Host: "a", Rcode: "NXDOMAIN"} },
			map[string]Status{"R5": Fail}},
		{"private", func(c *Collection) { c.DNS[0].Addresses = []string{"10.0.0.4"} },
			map[string]Status{"R5": Warn}},
		{"redirect", func(c *Collection) {
			c.Challenge = Probe{Status: 302, Header: map[string]string{"Location": "/login"}}
		}, map[string]Status{"R6": Fail}},
		{"login page", func(c *Collection) {
			c.Challenge = Probe{Status: 200, Header: map[string]string{"Content-Type": "text/html"}}
		}, map[string]Status{"R6": Fail}},
		{"expiring", func(c *Collection) {
			c.Challenge.Cert.NotAfter = c.Finished.AddDate(0, 0, 10)
		}, map[string]Status{"R6": Warn}},
		{"expired", func(c *Collection) {
			c.Challenge.Cert.NotAfter = c.Finished.AddDate(0, 0, -1)
		}, map[string]Status{"R6": Fail}},
		{"plain http", func(c *Collection) {
			c.URL = "http://mail.contoso.com"
			c.Autodiscover.Body = `{"Protocol":"Rest","Url":"http://mail.contoso.com/api"}`
		}, map[string]Status{"R6": Warn}},
		{"autodiscover on another scheme", func(c *Collection) {
			c.Autodiscover.Body = `{"Protocol":"Rest","Url":"http://mail.contoso.com/api"}`
		}, map[string]Status{"R5": Fail}},
		{"autodiscover on another port", func(c *Collection) {
			c.Autodiscover.Body = `{"Protocol":"Rest","Url":"https://mail.contoso.com:8443/api"}`
		}, map[string]Status{"R5": Fail}},
		{"autodiscover on the default port spelt out", func(c *Collection) {
			c.Autodiscover.Body = `{"Protocol":"Rest","Url":"https://mail.contoso.com:443/api"}`
		}, nil},
		{"wrong namespace", func(c *Collection) {
			c.Autodiscover.Body = `{"Protocol":"Rest","Url":"https://other.example/api"}`
		}, map[string]Status{"R5": Fail}},
		{"oauth refused", func(c *Collection) { c.OAuth = Probe{Status: 401} },
			map[string]Status{"OAuth": Fail}},
		{"oauth forbidden", func(c *Collection) { c.OAuth = Probe{Status: 403} },
			map[string]Status{"OAuth": Fail}},
		{"oauth login page", func(c *Collection) {
			c.OAuth.Header["Content-Type"] = "text/html; charset=utf-8"
		}, map[string]Status{"OAuth": Fail}},
		{"oauth redirected", func(c *Collection) {
			c.OAuth = Probe{Status: 302, Header: map[string]string{"Location": "/adfs/ls"}}
		}, map[string]Status{"OAuth": Fail}},
		{"oauth unreachable", func(c *Collection) {
			c.OAuth = Probe{Error: "connection refused"}
		}, map[string]Status{"OAuth": Fail}},
		// A mailbox without REST (or a server error) answers after the token
		// was accepted: nothing is learnt of the trust.
		{"oauth mailbox without REST", func(c *Collection) {
			c.OAuth = Probe{Status: 404,
				Body: `{"error":{"code":"MailboxNotEnabledForRESTAPI","message":"x"}}`}
		}, map[string]Status{"OAuth": Warn}},
		{"oauth server error", func(c *Collection) { c.OAuth = Probe{Status: 503} },
			map[string]Status{"OAuth": Warn}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy()
			tc.change(c)
			want := map[string]Status{}
			for k, v := range base {
				want[k] = v
			}
			for k, v := range tc.want {
				want[k] = v
			}
			rep := Analyse(c)
			if diff := cmp.Diff(want, statuses(rep)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if !cmp.Equal(rep, Analyse(c)) {
				t.Error("Analyse gave two reports for one collection")
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		statuses []Status
		want     int
	}{
		{[]Status{Pass, Pass}, 0}, {[]Status{Pass, Warn}, 1}, {[]Status{Warn, Fail, Pass}, 2},
	} {
		var r Report
		for _, s := range tc.statuses {
			r.Results = append(r.Results, Result{Status: s})
		}
		if got := r.ExitCode(); got != tc.want {
			t.Errorf("%v: got %d, want %d", tc.statuses, got, tc.want)
		}
	}
}

// FuzzAnalyse feeds saved collections of any shape to Analyse, which must
// always answer one result per requirement.
func FuzzAnalyse(f *testing.F) {
	b, err := json.Marshal(healthy())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"topology":{"servers":[{"name":"x","build":"1.2"}],"mailboxes":[{}]}}`))
	f.Add([]byte(`{"autodiscover":{"status":200,"body":"{"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Collection
		if json.Unmarshal(data, &c) != nil {
			return
		}
		if got := len(Analyse(&c).Results); got != 7 {
			t.Errorf("got %d results, want 7", got)
		}
	})
}

// TestAnalyseTokenRefused checks that a 401 to the cloud's S2S token on the
// admin topology fails OAuth whether or not a mailbox was known, and that
// R1 says why it was not checked.
func TestAnalyseTokenRefused(t *testing.T) {
	const challenge = `Bearer error="invalid_token"`
	refused := Probe{Status: 401, Header: map[string]string{"WWW-Authenticate": challenge}}
	for _, tc := range []struct {
		name  string
		email string
		oauth Probe
		want  []string // OAuth's evidence
	}{
		{"no user", "", Probe{Skipped: "no on-prem mailbox known"}, []string{
			"admin topology read with an S2S token: HTTP 401 " + challenge,
			"no mailbox read: no on-prem mailbox known, and the token was refused already"}},
		{"with user", "carol@contoso.com", refused, []string{
			"admin topology read with an S2S token: HTTP 401 " + challenge,
			"carol@contoso.com read with an S2S token: HTTP 401 " + challenge}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := healthy()
			c.Topology, c.TopologyProbe = nil, refused
			c.Email, c.OAuth = tc.email, tc.oauth
			rep := Analyse(c)
			var r1, oauth Result
			for _, r := range rep.Results {
				switch r.ID {
				case "R1":
					r1 = r
				case "OAuth":
					oauth = r
				}
			}
			if oauth.Status != Fail {
				t.Errorf("OAuth: got %s, want FAIL", oauth.Status)
			}
			if diff := cmp.Diff(tc.want, oauth.Evidence); diff != "" {
				t.Errorf("OAuth evidence (-want +got):\n%s", diff)
			}
			want := "not checked: no admin topology: the on-prem server refused the cloud's " +
				"server-to-server token (HTTP 401 " + challenge + "; see OAuth)"
			if r1.Status != Warn || len(r1.Evidence) != 1 || r1.Evidence[0] != want {
				t.Errorf("R1: got %s %q, want WARN %q", r1.Status, r1.Evidence, want)
			}
		})
	}
}
