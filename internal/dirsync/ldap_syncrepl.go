package dirsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// syncreplBuffer is how many results the search may run ahead of us.
const syncreplBuffer = 64

// readSyncrepl runs one refreshOnly LDAP Sync (RFC 4533 §3.3). Without a
// cookie the server sends every entry (an initial content, read as a full
// compare). With one it sends the entries changed since, then either
// names the deleted entries (a delete phase) or lists the unchanged ones
// (a present phase), after which every entry it did not name is gone.
func (s *LDAPSource) readSyncrepl(ctx context.Context, c ldap.Client, prev ldapCursor) (
	ldapRead, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	col := newCollector(ModeSyncrepl, len(prev.Cookie) > 0)
	req := ldap.NewSearchRequest(s.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, s.filter(), ldapAttributes, nil)
	resp := c.Syncrepl(ctx, req, syncreplBuffer, ldap.SyncRequestModeRefreshOnly,
		prev.Cookie, false)
	cookie := prev.Cookie
	var done *ldap.ControlSyncDone
	for resp.Next() {
		if e := resp.Entry(); e != nil {
			if err := syncEntry(col, e, resp.Controls()); err != nil {
				return ldapRead{}, err
			}
			continue
		}
		for _, ctl := range resp.Controls() {
			switch ctl := ctl.(type) {
			case *ldap.ControlSyncInfo:
				if err := syncInfo(col, ctl, &cookie); err != nil {
					return ldapRead{}, err
				}
			case *ldap.ControlSyncDone:
				done = ctl
			}
		}
	}
	if err := resp.Err(); err != nil {
		return ldapRead{}, fmt.Errorf("ldap sync: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return ldapRead{}, err
	}
	if done == nil {
		return ldapRead{}, errors.New("ldap sync: the search ended without a sync done control")
	}
	if len(done.Cookie) > 0 {
		cookie = done.Cookie
	}
	// With no changes, OpenLDAP ends without a cookie: the old one holds.
	// TODO: OpenLDAP answers a cookie it cannot parse with the whole
	// content and refreshDeletes TRUE, which reads as a delete phase
	// without deletes, so deletions since would be missed. Only cookies
	// the server gave are sent, so only a tampered state file does this.
	// RFC 4533 §3.3.2: refreshDeletes FALSE means the refresh ended with a
	// present phase; after a present phase, entries neither changed nor
	// present were deleted.
	col.stats.Full = !col.incremental || col.presentPhase || !done.RefreshDeletes
	if col.stats.Full && col.incremental {
		// The server chose a present phase (no session log, or one too
		// short): it listed every unchanged entry, and the cloud compares.
		col.stats.Fallback = "the server answered the cookie with a present phase " +
			"(every entry listed; a syncprov-sessionlog lets it send deletes instead)"
	}
	return ldapRead{batch: col.done(), dns: col.dns, stats: col.stats,
		next: ldapCursor{Mode: ModeSyncrepl, Cookie: cookie}}, nil
}

// syncEntry handles one entry and its Sync State control (RFC 4533 §2.3).
func syncEntry(col *collector, e *ldap.Entry, controls []ldap.Control) error {
	var st *ldap.ControlSyncState
	for _, ctl := range controls {
		if c, ok := ctl.(*ldap.ControlSyncState); ok {
			st = c
		}
	}
	if st == nil {
		return col.add(e)
	}
	id, err := ImmutableID(st.EntryUUID.String())
	if err != nil {
		return err
	}
	switch st.State {
	case ldap.SyncStateDelete:
		col.gone(id)
		return nil
	case ldap.SyncStatePresent:
		col.present(id)
		return nil
	}
	if len(e.Attributes) > 0 && e.GetAttributeValue("entryUUID") == "" {
		e.Attributes = append(e.Attributes,
			ldap.NewEntryAttribute("entryUUID", []string{st.EntryUUID.String()}))
	}
	return col.add(e)
}

// syncInfo handles a Sync Info message (RFC 4533 §2.5): a new cookie, the
// end of a phase, or a set of entry UUIDs deleted or present.
func syncInfo(col *collector, ctl *ldap.ControlSyncInfo, cookie *[]byte) error {
	keep := func(c []byte) {
		if len(c) > 0 {
			*cookie = c
		}
	}
	switch {
	case ctl.NewCookie != nil:
		keep(ctl.NewCookie.Cookie)
	case ctl.RefreshDelete != nil:
		keep(ctl.RefreshDelete.Cookie)
	case ctl.RefreshPresent != nil:
		col.presentPhase = true
		keep(ctl.RefreshPresent.Cookie)
	case ctl.SyncIdSet != nil:
		keep(ctl.SyncIdSet.Cookie)
		for _, u := range ctl.SyncIdSet.SyncUUIDs {
			id, err := ImmutableID(u.String())
			if err != nil {
				return err
			}
			if ctl.SyncIdSet.RefreshDeletes {
				col.gone(id)
			} else {
				col.present(id)
			}
		}
	}
	return nil
}
