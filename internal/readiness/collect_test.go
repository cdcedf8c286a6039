package readiness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// TestKnownMailbox checks which mailboxes the check refuses to probe: a
// cloud mailbox, or one neither directory holds; never one that only the
// cloud lacks, which is R3's finding.
func TestKnownMailbox(t *testing.T) {
	cloud := &dirsync.State{Users: []dirsync.StateUser{
		{UPN: "alice@contoso.test", Mail: "alice@contoso.test", Premises: "cloud"},
		{UPN: "carol@contoso.test", Mail: "carol.clark@contoso.test", Premises: "onprem"},
	}}
	topo := &onprem.AdminTopology{Mailboxes: []onprem.MailboxLocation{
		{UPN: "carol@contoso.test"}, {UPN: "newbie@contoso.test"}}}
	for _, tc := range []struct {
		name, email string
		cloud       *dirsync.State
		topo        *onprem.AdminTopology
		wantErr     string
	}{
		{"none given", "", cloud, topo, ""},
		{"on-prem by UPN", "CAROL@contoso.test", cloud, topo, ""},
		{"on-prem by address", "carol.clark@contoso.test", cloud, nil, ""},
		{"cloud mailbox", "alice@contoso.test", cloud, topo, "is in the cloud, not on premises"},
		{"unknown", "nobody@contoso.test", cloud, topo, "in neither the cloud directory"},
		{"unknown, no topology", "nobody@contoso.test", cloud, nil, "in neither"},
		{"not synced yet", "newbie@contoso.test", cloud, topo, ""},
		{"nothing read", "nobody@contoso.test", nil, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := knownMailbox(tc.email, &Collection{CloudDirectory: tc.cloud,
				Topology: tc.topo})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("got error %v, want none", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("got error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestCollectLargeTopology checks that a topology of many mailboxes, far
// beyond the body kept of other answers, is read whole.
func TestCollectLargeTopology(t *testing.T) {
	topo := onprem.AdminTopology{Topology: onprem.Topology{
		Servers:   []onprem.Server{{Name: "EX2016-01", Build: "15.1.2507.6"}},
		Databases: []onprem.Database{{Name: "DB1", Server: "EX2016-01"}}}}
	for i := range 500 {
		topo.Mailboxes = append(topo.Mailboxes, onprem.MailboxLocation{
			UPN: fmt.Sprintf("user%03d@contoso.test", i), Database: "DB1",
			MailboxGUID: "00000000-0000-0000-0000-000000000000"})
	}
	body, err := json.Marshal(topo)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) <= MaxProbeBody {
		t.Fatalf("topology of %d bytes: want more than %d", len(body), MaxProbeBody)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == onprem.AdminTopologyPath {
			w.Write(body)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c, err := Collect(context.Background(), Target{URL: srv.URL, Samples: 1,
		Token: func(upn, host string) (string, error) { return "token", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Topology == nil || len(c.Topology.Mailboxes) != 500 {
		t.Fatalf("got topology %v (probe %+v), want 500 mailboxes", c.Topology != nil,
			c.TopologyProbe.Error)
	}
	if c.TopologyProbe.Body != "" {
		t.Errorf("the probe kept the topology's body too (%d bytes)", len(c.TopologyProbe.Body))
	}
}
