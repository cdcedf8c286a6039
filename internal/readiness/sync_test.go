package readiness

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

func TestCheckR3(t *testing.T) {
	started := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	recent, old := started.Add(-time.Hour), started.Add(-4*time.Hour)
	topo := &onprem.AdminTopology{Mailboxes: []onprem.MailboxLocation{
		{UPN: "carol@contoso.test", Database: "DB", MailboxGUID: "g-carol"}}}
	carol := dirsync.StateUser{UPN: "Carol@contoso.test", Premises: "onprem",
		MailboxGUID: "G-CAROL", SyncEnabled: true}
	with := func(f func(*dirsync.StateUser)) []dirsync.StateUser {
		u := carol
		f(&u)
		return []dirsync.StateUser{u}
	}
	tests := []struct {
		name  string
		state *dirsync.State
		topo  *onprem.AdminTopology
		want  Status
	}{
		{"synced", &dirsync.State{LastSync: &recent, Users: with(func(*dirsync.StateUser) {})},
			topo, Pass},
		{"not read", nil, topo, Warn},
		{"no topology", &dirsync.State{LastSync: &recent,
			Users: with(func(*dirsync.StateUser) {})}, nil, Warn},
		{"never synced", &dirsync.State{Users: with(func(*dirsync.StateUser) {})}, topo, Fail},
		{"stale", &dirsync.State{LastSync: &old, Users: with(func(*dirsync.StateUser) {})},
			topo, Fail},
		{"missing", &dirsync.State{LastSync: &recent}, topo, Fail},
		{"guid mismatch", &dirsync.State{LastSync: &recent,
			Users: with(func(u *dirsync.StateUser) { u.MailboxGUID = "other" })}, topo, Fail},
		{"cloud-only entry", &dirsync.State{LastSync: &recent,
			Users: with(func(u *dirsync.StateUser) { u.SyncEnabled = false })}, topo, Fail},
		{"placed in the cloud", &dirsync.State{LastSync: &recent,
			Users: with(func(u *dirsync.StateUser) { u.Premises = "cloud" })}, topo, Fail},
		// A user deleted on premises that the cloud still routes: the
		// cloud is not in step with the source until someone confirms.
		{"deletions held", &dirsync.State{LastSync: &recent,
			Users: with(func(*dirsync.StateUser) {}),
			HeldDeletes: []directory.HeldDelete{{ImmutableID: "i1",
				UPN: "erin@contoso.test", Since: old}}}, topo, Warn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Collection{Started: started, CloudDirectory: tt.state, Topology: tt.topo,
				CloudProbe: Probe{Skipped: "no cloud URL"}, TopologyProbe: Probe{Status: 404}}
			got := checkR3(c)
			if got.Status != tt.want {
				t.Errorf("got %s, want %s (evidence %q)", got.Status, tt.want, got.Evidence)
			}
			if tt.state != nil && len(tt.state.HeldDeletes) > 0 &&
				!strings.Contains(fmt.Sprint(got.Evidence), "erin@contoso.test") {
				t.Errorf("evidence %q does not name the held deletion", got.Evidence)
			}
		})
	}
}
