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

func (r *syncRun) upsertAll(ctx context.Context, users []SourceUser) error {
	for _, su := range users {
		if err := r.upsert(ctx, su); err != nil {
			return err
		}
	}
	return nil
}

// match finds the cloud entry of su: by immutable id (a hard match), else
// an entry not yet synced with the same UPN or address (a soft match, which
// adopts it). reason says why when su collides with another entry; cur
// is nil when su is new.
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
	for i, h := range holders {
		switch {
		case cur != nil && h.ObjectID == cur.ObjectID:
		case cur == nil && !h.SyncEnabled && len(holders) == 1:
			cur = &holders[i]
		default:
			return nil, fmt.Sprintf("collision: UPN or address held by %s", h.UPN), nil
		}
	}
	// Secondary addresses never soft-match: they only collide.
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
	return r.delete(ctx, victims, len(synced))
}

func (r *syncRun) delete(ctx context.Context, victims []User, synced int) error {
	threshold := r.opts.DeleteThreshold
	if threshold <= 0 {
		threshold = DefaultDeleteThreshold
	}
	if float64(len(victims)) > threshold*float64(synced) && !r.opts.ConfirmDeletes {
		reason := fmt.Sprintf("deletion held: %d of %d synced users is more than %g%%;"+
			" confirm to delete", len(victims), synced, threshold*100)
		for _, u := range victims {
			r.sum.Held++
			r.sum.Problems = append(r.sum.Problems,
				Problem{ImmutableID: u.ImmutableID, UPN: u.UPN, Reason: reason})
		}
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
