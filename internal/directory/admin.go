package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// The built-in on-prem directory is edited by an admin, as Active Directory
// is with New-Mailbox and Remove-Mailbox; the cloud's copy follows at the
// next directory sync. The cloud directory is not edited this way: sync
// masters its synced entries, and would undo or collide with a hand edit.

// ErrExists is returned by Add when the UPN or address is held already.
var ErrExists = fmt.Errorf("user exists: %w", store.ErrConflict)

// errNotOnPrem refuses admin edits of the cloud directory.
var errNotOnPrem = errors.New("only the on-prem directory is edited by hand; " +
	"the cloud's follows by directory sync")

// Add adds u to the on-prem directory. Its UPN and address must be free,
// each as either: Exchange keeps one namespace of addresses, so a UPN held
// as another user's address is taken too.
func (d *Directory) Add(ctx context.Context, u User) error {
	if d.side != OnPrem {
		return errNotOnPrem
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	defer tx.Rollback()
	var holder User
	err = tx.QueryRowContext(ctx, `SELECT object_id, upn, mail FROM users
		WHERE object_id = ? COLLATE NOCASE OR upn IN (?, ?) OR mail IN (?, ?) LIMIT 1`,
		u.ObjectID, u.UPN, u.Mail, u.UPN, u.Mail).Scan(&holder.ObjectID, &holder.UPN,
		&holder.Mail)
	if err == nil {
		return existsError(clash(u, holder))
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("add user: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO users (object_id, upn, mail, display_name,
		premises, recipient_type, database_name, mailbox_guid, target_address)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ObjectID, u.UPN, u.Mail, u.DisplayName, string(u.Premises), u.RecipientType,
		u.Database, u.MailboxGUID, u.TargetAddress)
	if err != nil {
		return fmt.Errorf("add user %s: %w", u.UPN, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add user %s: %w", u.UPN, err)
	}
	return nil
}

// existsError is Add's refusal: it names the clash and is ErrExists.
type existsError string

func (e existsError) Error() string { return string(e) }
func (e existsError) Unwrap() error { return ErrExists }

// clash says which name of u the existing user h holds, and as what.
func clash(u, h User) string {
	switch {
	case strings.EqualFold(u.UPN, h.UPN):
		return "user " + h.UPN + " exists already"
	case u.ObjectID != "" && strings.EqualFold(u.ObjectID, h.ObjectID):
		return "object id " + u.ObjectID + " is held by user " + h.UPN
	case strings.EqualFold(u.Mail, h.UPN):
		return "address " + u.Mail + " is taken: it is the UPN of user " + h.UPN
	case strings.EqualFold(u.UPN, h.Mail):
		return "UPN " + u.UPN + " is taken: it is the address of user " + h.UPN
	}
	return "address " + h.Mail + " is taken: it is the address of user " + h.UPN
}

// Remove deletes the user key names (object id, UPN or address, as Lookup
// reads it) from the on-prem directory and returns the entry removed. The
// mailbox's data stays in its database, as Exchange keeps a disconnected
// mailbox; the cloud entry goes at the next sync, within its deletion
// threshold.
func (d *Directory) Remove(ctx context.Context, key string) (User, error) {
	if d.side != OnPrem {
		return User{}, errNotOnPrem
	}
	u, err := d.Lookup(ctx, key)
	if err != nil {
		return User{}, err
	}
	res, err := d.db.ExecContext(ctx, `DELETE FROM users WHERE object_id = ?`, u.ObjectID)
	if err != nil {
		return User{}, fmt.Errorf("remove user %s: %w", u.UPN, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return User{}, ErrNotFound // removed meanwhile
	}
	return u, nil
}
