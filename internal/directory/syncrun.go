package directory

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// syncRun is one Apply in progress, inside its transaction.
type syncRun struct {
	tx   *sql.Tx
	opts SyncOptions
	sum  *Summary
	held []User // the deletions this run held back
}

func (r *syncRun) stamp() string { return r.sum.SyncedAt.Format(time.RFC3339Nano) }

func (r *syncRun) query(ctx context.Context, where string, args ...any) ([]User, error) {
	rows, err := r.tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+where,
		args...)
	if err != nil {
		return nil, fmt.Errorf("sync lookup: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sync lookup: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// upsertAll adds or updates each user; bad names, by position, the ones
// validate refused, which fail alone.
func (r *syncRun) upsertAll(ctx context.Context, users []SourceUser, bad map[int]string) error {
	for i, su := range users {
		if reason, ok := bad[i]; ok {
			r.sum.fail(su.ImmutableID, su.UPN, reason)
			continue
		}
		if err := r.upsert(ctx, su); err != nil {
			return err
		}
	}
	return nil
}

// match finds the cloud entry of su by its immutable id (the hard match).
// Every other entry holding su's UPN or an address of su is a collision,
// reason says with whom; a cloud-only entry is never adopted (no soft
// match): the rule is that a collision is reported and left
// alone, and an adopted cloud mailbox would be rerouted on premises and
// later deleted with its source entry. cur is nil when su is new.
func (r *syncRun) match(ctx context.Context, su SourceUser) (cur *User, reason string,
	err error) {
	hard, err := r.query(ctx, `immutable_id = ?`, su.ImmutableID)
	if err != nil {
		return nil, "", err
	}
	if len(hard) == 1 {
		cur = &hard[0]
	}
	holders, err := r.query(ctx, `upn = ? OR mail = ? OR upn = ? OR mail = ?`,
		su.UPN, su.UPN, su.Mail, su.Mail)
	if err != nil {
		return nil, "", err
	}
	for _, h := range holders {
		if cur != nil && h.ObjectID == cur.ObjectID {
			continue
		}
		return nil, "collision: " + shared(su, h) + " held by " + holderName(h), nil
	}
	self := ""
	if cur != nil {
		self = cur.ObjectID
	}
	upn, addr, err := r.addressHolder(ctx, su, self)
	if err != nil {
		return nil, "", err
	}
	if upn != "" {
		return nil, fmt.Sprintf("collision: address %s held by %s", addr, upn), nil
	}
	return cur, "", nil
}

// shared names what su shares with the holder h: "UPN x" or "address x".
func shared(su SourceUser, h User) string {
	for _, v := range []string{su.UPN, su.Mail} {
		if v != "" && (strings.EqualFold(v, h.UPN) || strings.EqualFold(v, h.Mail)) {
			if strings.EqualFold(v, su.UPN) {
				return "UPN " + v
			}
			return "address " + v
		}
	}
	return "UPN or address"
}

func (r *syncRun) upsert(ctx context.Context, su SourceUser) error {
	cur, reason, err := r.match(ctx, su)
	if err != nil {
		return err
	}
	if reason != "" {
		r.sum.fail(su.ImmutableID, su.UPN, reason)
		return nil
	}
	next := User{ObjectID: uuid.NewString(), UPN: su.UPN, Mail: su.Mail,
		DisplayName: su.DisplayName, MailboxGUID: su.MailboxGUID}
	if cur != nil {
		next.ObjectID = cur.ObjectID
	}
	if !r.locate(&next, su, cur) {
		return nil
	}
	addrs := secondaries(su)
	var had []string
	if cur != nil {
		if had, err = r.addresses(ctx, cur.ObjectID); err != nil {
			return err
		}
	}
	if err := r.write(ctx, next, su.ImmutableID); err != nil {
		return err
	}
	if err := r.writeAddresses(ctx, next.ObjectID, addrs); err != nil {
		return err
	}
	switch {
	case cur == nil:
		r.sum.Added++
	case changed(*cur, next) || !slices.EqualFunc(had, addrs, strings.EqualFold):
		r.sum.Updated++
	}
	return nil
}

// locate sets where u's mailbox lives, as the router reads it: an on-prem
// mailbox is a MailUser aimed at its on-prem address, a cloud one a
// UserMailbox in a cloud database (exchange-hybrid.md §3.1).
func (r *syncRun) locate(u *User, su SourceUser, cur *User) bool {
	if su.RecipientType == UserMailbox {
		// The database is the on-prem one (homeMDB), for the record: the
		// router sends the request to the on-prem server, which knows it too.
		u.Premises, u.RecipientType, u.TargetAddress = OnPrem, MailUser, su.Mail
		u.Database = su.Database
		return true
	}
	u.Premises, u.RecipientType = Cloud, UserMailbox
	if cur != nil && cur.Premises == Cloud && cur.Database != "" {
		u.Database = cur.Database
		return true
	}
	if r.opts.CloudDatabase == "" {
		r.sum.fail(su.ImmutableID, su.UPN, "no cloud database for a cloud mailbox")
		return false
	}
	u.Database = r.opts.CloudDatabase
	return true
}

func changed(a, b User) bool {
	return a.UPN != b.UPN || a.Mail != b.Mail || a.DisplayName != b.DisplayName ||
		a.Premises != b.Premises || a.RecipientType != b.RecipientType ||
		a.Database != b.Database || a.MailboxGUID != b.MailboxGUID ||
		a.TargetAddress != b.TargetAddress || !a.SyncEnabled
}

func (r *syncRun) write(ctx context.Context, u User, immutableID string) error {
	_, err := r.tx.ExecContext(ctx, `INSERT INTO users (object_id, upn, mail, display_name,
		premises, recipient_type, database_name, mailbox_guid, target_address,
		sync_enabled, immutable_id, last_sync)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (object_id) DO UPDATE SET upn=excluded.upn, mail=excluded.mail,
		display_name=excluded.display_name, premises=excluded.premises,
		recipient_type=excluded.recipient_type, database_name=excluded.database_name,
		mailbox_guid=excluded.mailbox_guid, target_address=excluded.target_address,
		sync_enabled=1, immutable_id=excluded.immutable_id, last_sync=excluded.last_sync`,
		u.ObjectID, u.UPN, u.Mail, u.DisplayName, string(u.Premises), u.RecipientType,
		u.Database, u.MailboxGUID, u.TargetAddress, immutableID, r.stamp())
	if err != nil {
		return fmt.Errorf("sync user %s: %w", u.UPN, err)
	}
	return nil
}

// deleteAll removes the synced users the batch deletes. Only synced
// entries are candidates, so a cloud-only user is never deleted. Past the
// threshold share of synced users, every deletion is held unless confirmed.
func (r *syncRun) deleteAll(ctx context.Context, b Batch) error {
	synced, err := r.query(ctx, `sync_enabled = 1`)
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	for _, id := range b.Deletes {
		gone[id] = true
	}
	if b.Full {
		kept := map[string]bool{}
		for _, u := range b.Upserts {
			kept[u.ImmutableID] = true
		}
		for _, id := range b.Present {
			kept[id] = true
		}
		for _, p := range b.Failed {
			kept[p.ImmutableID] = true
		}
		for _, u := range synced {
			gone[u.ImmutableID] = gone[u.ImmutableID] || !kept[u.ImmutableID]
		}
	}
	var victims []User
	for _, u := range synced {
		if gone[u.ImmutableID] {
			victims = append(victims, u)
		}
	}
	// An entry the source could not identify may be any synced user: a
	// full compare cannot tell who is gone, and a deletion reported
	// meanwhile waits for the source to be whole again or for an admin.
	if unidentified(b.Failed) && len(victims) > 0 && !r.opts.ConfirmDeletes {
		r.hold(victims, "deletion held: the source had entries it could not identify, "+
			"so the run cannot tell who is gone; confirm to delete")
		return nil
	}
	return r.delete(ctx, victims, len(synced))
}

// unidentified reports whether a source failure names no immutable id.
func unidentified(failed []Problem) bool {
	for _, p := range failed {
		if p.ImmutableID == "" {
			return true
		}
	}
	return false
}

// hold reports victims as held deletions and remembers them (keepHeld).
func (r *syncRun) hold(victims []User, reason string) {
	for _, u := range victims {
		r.sum.Held++
		r.sum.Problems = append(r.sum.Problems,
			Problem{ImmutableID: u.ImmutableID, UPN: u.UPN, Reason: reason, Held: true})
	}
	r.held = append(r.held, victims...)
}

func (r *syncRun) delete(ctx context.Context, victims []User, synced int) error {
	threshold := r.opts.DeleteThreshold
	if threshold <= 0 {
		threshold = DefaultDeleteThreshold
	}
	if float64(len(victims)) > threshold*float64(synced) && !r.opts.ConfirmDeletes {
		r.hold(victims, fmt.Sprintf("deletion held: %d of %d synced users is more "+
			"than %g%%; confirm to delete", len(victims), synced, threshold*100))
		return nil
	}
	for _, u := range victims {
		_, err := r.tx.ExecContext(ctx,
			`DELETE FROM users WHERE object_id = ? AND sync_enabled = 1`, u.ObjectID)
		if err == nil {
			_, err = r.tx.ExecContext(ctx,
				`DELETE FROM user_addresses WHERE object_id = ?`, u.ObjectID)
		}
		if err != nil {
			return fmt.Errorf("delete user %s: %w", u.UPN, err)
		}
		r.sum.Deleted++
	}
	return nil
}

// keepHeld records the run's held deletions, so that the sync state can
// say what the cloud still routes although the source deleted it. Each
// run restates what it holds (the agent re-sends held deletions until they
// are confirmed); a deletion held again keeps the time it was first held.
func (r *syncRun) keepHeld(ctx context.Context) error {
	ids := make([]any, 0, len(r.held))
	for _, u := range r.held {
		ids = append(ids, u.ImmutableID)
	}
	q := `DELETE FROM sync_held`
	if len(ids) > 0 {
		q += ` WHERE immutable_id NOT IN (` + placeholders(len(ids)) + `)`
	}
	if _, err := r.tx.ExecContext(ctx, q, ids...); err != nil {
		return fmt.Errorf("keep held deletions: %w", err)
	}
	for _, u := range r.held {
		_, err := r.tx.ExecContext(ctx, `INSERT INTO sync_held (immutable_id, upn, since)
			VALUES (?, ?, ?) ON CONFLICT (immutable_id) DO UPDATE SET upn = excluded.upn`,
			u.ImmutableID, u.UPN, r.stamp())
		if err != nil {
			return fmt.Errorf("keep held deletion of %s: %w", u.UPN, err)
		}
	}
	return nil
}

// holderName names the user holding an address, saying whether it is
// cloud-only (mastered in the cloud, never taken over by sync).
func holderName(u User) string {
	if !u.SyncEnabled {
		return "cloud-only user " + u.UPN
	}
	if u.ImmutableID == "" {
		return "synced user " + u.UPN
	}
	// Another on-prem object (a user deleted and made again has a new
	// anchor): its immutable id tells the two apart.
	return "synced user " + u.UPN + " (immutable id " + u.ImmutableID + ")"
}
