package readiness

import (
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
