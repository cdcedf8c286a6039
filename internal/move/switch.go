package move

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// The switch. Each premises' directory says where the mailbox lives, in
// Exchange's recipient types (exchange-hybrid.md §3.1):
//
//	mailbox in        cloud directory             on-prem directory
//	the cloud         UserMailbox, its database   RemoteUserMailbox, target
//	                                              address in the coexistence
//	                                              domain
//	on premises       MailUser, target address    UserMailbox, its database
//	                  its primary address
//
// These are also what directory sync writes from the on-prem directory
// (directory.Apply), so a sync after the move leaves it in place.
//
// The premises that will serve the mailbox is switched first: a move to
// the cloud switches the cloud entry (the router then serves the target)
// before the on-prem one; a move on premises readies the on-prem entry
// (the on-prem server then serves the target) before the router sends
// requests there. In between, requests reach the locked source and are
// answered 503, as during the final catch-up.

// switchEntries switches both directories to the target.
func (r *run) switchEntries(ctx context.Context) error {
	if r.job.Phase != Switching {
		if err := r.save(ctx, Switching); err != nil {
			return err
		}
	}
	order := []directory.Premises{directory.Cloud, directory.OnPrem}
	if r.job.Target.Premises == directory.OnPrem {
		order = []directory.Premises{directory.OnPrem, directory.Cloud}
	}
	for _, side := range order {
		if err := r.holdLock(ctx); err != nil {
			return err
		}
		if err := r.place(ctx, side); err != nil {
			return err
		}
	}
	// Nothing routes to the source any more: its lock stays until it is
	// deleted, so that a write that found the mailbox there a moment ago
	// is refused and retried at the target.
	if err := r.src.LockMailbox(ctx, r.job.MailboxGUID, store.LockForever); err != nil {
		return fmt.Errorf("lock source for good: %w", err)
	}
	r.renewing.Store(false)
	r.job.Switched = r.m.now()
	r.m.log().Info("move switched", "user", r.job.UPN, "to", r.job.Target.String())
	return r.save(ctx, Switched)
}

// place writes side's entry for the target location. A move between
// cloud databases leaves the on-prem entry as it is, and needs none: a
// cloud-only user, or an organisation without premises, has none.
func (r *run) place(ctx context.Context, side directory.Premises) error {
	dir := r.m.side(side).Directory
	cloudOnly := side == directory.OnPrem && r.job.Source.Premises == directory.Cloud &&
		r.job.Target.Premises == directory.Cloud
	if dir == nil && cloudOnly {
		return nil
	}
	if dir == nil {
		return fmt.Errorf("no %s directory to switch", side)
	}
	u, err := dir.Lookup(ctx, r.job.UPN)
	if errors.Is(err, directory.ErrNotFound) && cloudOnly {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s directory: %s: %w", side, r.job.UPN, err)
	}
	p, err := r.placement(ctx, side, u)
	if err != nil {
		return err
	}
	if p == u.Placement() {
		return nil
	}
	if err := dir.Place(ctx, u.ObjectID, p); err != nil {
		return fmt.Errorf("switch the %s directory: %w", side, err)
	}
	return nil
}

// placement is the entry side's directory gets for the target; cur is the
// entry now.
func (r *run) placement(ctx context.Context, side directory.Premises,
	cur directory.User) (directory.Placement, error) {
	t := r.job.Target
	switch {
	case side == directory.Cloud && t.Premises == directory.Cloud:
		return directory.Placement{Premises: directory.Cloud,
			RecipientType: directory.UserMailbox, Database: t.Database}, nil
	case side == directory.Cloud:
		// The database is kept for the record, as sync keeps homeMDB.
		return directory.Placement{Premises: directory.OnPrem,
			RecipientType: directory.MailUser, Database: t.Database,
			TargetAddress: cur.Mail}, nil
	case t.Premises == directory.OnPrem:
		return directory.Placement{Premises: directory.OnPrem,
			RecipientType: directory.UserMailbox, Database: t.Database}, nil
	}
	if cur.Premises == directory.Cloud && cur.TargetAddress != "" {
		return cur.Placement(), nil // already a remote mailbox: keep its address
	}
	addr, err := r.m.coexistenceAddress(ctx, cur)
	if err != nil {
		return directory.Placement{}, err
	}
	return directory.Placement{Premises: directory.Cloud,
		RecipientType: directory.RemoteUserMailbox, TargetAddress: addr}, nil
}

// coexistenceAddress is the remote routing address of u's cloud mailbox:
// its local part at the coexistence domain (tenant.mail.onmicrosoft.com in
// Exchange Online), which the on-prem directory's other remote mailboxes
// show. Without any to learn it from, the primary address is used.
func (m *Mover) coexistenceAddress(ctx context.Context, u directory.User) (string, error) {
	users, err := m.OnPrem.Directory.All(ctx)
	if err != nil {
		return "", err
	}
	counts := map[string]int{}
	best := ""
	for _, o := range users {
		if o.RecipientType != directory.RemoteUserMailbox {
			continue
		}
		_, domain, ok := strings.Cut(o.TargetAddress, "@")
		if !ok {
			continue
		}
		domain = strings.ToLower(domain)
		counts[domain]++
		if counts[domain] > counts[best] || counts[domain] == counts[best] && domain < best {
			best = domain
		}
	}
	local, _, _ := strings.Cut(u.Mail, "@")
	if best == "" || local == "" {
		m.log().Warn("move: no coexistence domain known; the remote mailbox keeps its "+
			"primary address as target address", "user", u.UPN)
		return u.Mail, nil
	}
	return local + "@" + best, nil
}
