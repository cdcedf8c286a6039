package readiness

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

// StaleSync is the age past which the last directory sync fails R3: six
// runs of the usual 30-minute sync cycle missed, so mailbox moves and new
// mailboxes no longer reach the cloud's routing.
const StaleSync = 3 * time.Hour

// cloudDirectory reads the cloud's directory-sync state with an admin
// app token.
func (p prober) cloudDirectory(ctx context.Context) (*dirsync.State, Probe) {
	pr := Probe{URL: p.t.CloudURL, At: p.t.Now().UTC()}
	if p.t.CloudURL == "" || p.t.CloudToken == nil {
		pr.Skipped = "no cloud URL and admin token given"
		return nil, pr
	}
	pr.URL = strings.TrimSuffix(p.t.CloudURL, "/") + dirsync.Path
	c := &dirsync.Client{BaseURL: strings.TrimSuffix(p.t.CloudURL, "/"), HTTP: p.t.HTTP,
		Token: func(context.Context) (string, error) { return p.t.CloudToken() }}
	st, err := c.ReadState(ctx)
	if err != nil {
		pr.Error = err.Error()
		return nil, pr
	}
	pr.Status = 200
	return &st, pr
}

// clockSkew is how far a last sync may lie after the check's start before
// the clocks are suspect.
const clockSkew = 5 * time.Minute

func checkR3(c *Collection) Result {
	r := newResult("R3", "the on-prem directory is synchronised to the cloud")
	const action = "Run directory sync (hybridgraph sync, or the sync service) and check " +
		"that it completes; every on-prem mailbox must reach the cloud as a synced mail " +
		"user with its ExchangeGuid."
	st := c.CloudDirectory
	if st == nil {
		why := c.CloudProbe.Skipped
		if why == "" {
			why = c.CloudProbe.Error
		}
		r.add(Warn, "not checked: cloud directory not read (%s)", why)
		return r.done(action)
	}
	switch {
	case st.LastSync == nil:
		r.add(Fail, "the cloud directory has never been synchronised")
	case st.LastSync.Sub(c.Started) > clockSkew:
		r.add(Warn, "last sync at %s, %v after the check started: the cloud's or this "+
			"machine's clock is wrong", st.LastSync.UTC().Format(time.RFC3339),
			st.LastSync.Sub(c.Started).Round(time.Second))
	case c.Started.Sub(*st.LastSync) > StaleSync:
		r.add(Fail, "last sync %d hours before the check (stale past %d hours)",
			int(c.Started.Sub(*st.LastSync).Hours()), int(StaleSync.Hours()))
	default:
		r.add(Pass, "last sync less than %d hours before the check", int(StaleSync.Hours()))
	}
	checkHeldDeletes(r, st.HeldDeletes)
	checkMailboxesSynced(r, c)
	return r.done(action)
}

// checkHeldDeletes warns about deletions the cloud holds back by its
// threshold: those users are gone on premises, yet the cloud still lists
// and routes them until an admin confirms (or restores them on premises).
func checkHeldDeletes(r *result, held []directory.HeldDelete) {
	if len(held) == 0 {
		return
	}
	oldest := held[0].Since
	names := make([]string, 0, len(held))
	for _, h := range held {
		names = append(names, h.UPN)
		if h.Since.Before(oldest) {
			oldest = h.Since
		}
	}
	const most = 5
	list := strings.Join(names[:min(len(names), most)], ", ")
	if len(names) > most {
		list += fmt.Sprintf(" and %d more", len(names)-most)
	}
	noun := "deletions"
	if len(held) == 1 {
		noun = "deletion"
	}
	r.add(Warn, "%d %s held by the cloud since %s, still routed: %s; confirm "+
		"(hybridgraph sync --confirm-deletes) or restore the users on premises", len(held),
		noun, oldest.UTC().Format(time.RFC3339), list)
}

// checkMailboxesSynced compares each on-prem mailbox of the topology with
// its cloud entry (exchange-hybrid.md §6.2, R3: IsDirSynced and a matching
// ExchangeGuid).
func checkMailboxesSynced(r *result, c *Collection) {
	if c.Topology == nil {
		r.add(Warn, "mailboxes not compared: %s", noTopology(c))
		return
	}
	cloud := map[string]dirsync.StateUser{}
	for _, u := range c.CloudDirectory.Users {
		cloud[strings.ToLower(u.UPN)] = u
	}
	good := 0
	for _, m := range c.Topology.Mailboxes {
		u, ok := cloud[strings.ToLower(m.UPN)]
		switch {
		case !ok:
			r.add(Fail, "%s: not in the cloud directory", m.UPN)
		case !u.SyncEnabled:
			r.add(Fail, "%s: in the cloud directory but not synchronised", m.UPN)
		case !strings.EqualFold(u.MailboxGUID, m.MailboxGUID):
			r.add(Fail, "%s: cloud mailbox GUID %q, on premises %q", m.UPN, u.MailboxGUID,
				m.MailboxGUID)
		case u.Premises != string(directory.OnPrem):
			r.add(Fail, "%s: the cloud places the mailbox in the %s", m.UPN, u.Premises)
		default:
			good++
		}
	}
	r.add(statusIf(good == len(c.Topology.Mailboxes)),
		"%d of %d on-prem mailboxes synced with a matching mailbox GUID", good,
		len(c.Topology.Mailboxes))
}

func statusIf(ok bool) Status {
	if ok {
		return Pass
	}
	return Fail
}
