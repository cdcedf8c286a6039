// Package directory holds the users of an organisation and where each
// mailbox lives: on which premises, in which mailbox database, under which
// mailbox GUID. Each premises keeps its own directory (the cloud's is fed by
// directory sync from on premises). The router reads the cloud's to decide
// whether a request is served locally or proxied; the mail flow reads it to
// decide where a recipient's copy goes.
//
// Recipient types follow Exchange (exchange-hybrid.md §3.1): a mailbox on
// this premises is a UserMailbox; an on-prem mailbox seen from the cloud is
// a MailUser whose TargetAddress is its on-prem address; a cloud mailbox seen
// from on premises is a RemoteUserMailbox.
package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/store"

	_ "modernc.org/sqlite" // the embedded SQL driver
)

// Premises says where a mailbox lives.
type Premises string

const (
	Cloud  Premises = "cloud"
	OnPrem Premises = "onprem"
)

// Recipient types (msExchRecipientTypeDetails names).
const (
	UserMailbox       = "UserMailbox"
	MailUser          = "MailUser"
	RemoteUserMailbox = "RemoteUserMailbox"
)

// User is one directory entry.
type User struct {
	ObjectID      string // directory object GUID
	UPN           string
	Mail          string // primary SMTP address
	DisplayName   string
	Premises      Premises
	RecipientType string
	Database      string // mailbox database, for mailboxes on this premises
	MailboxGUID   string // Exchange's ExchangeGuid
	TargetAddress string // where mail and requests for a remote mailbox go

	// SyncEnabled is Graph's onPremisesSyncEnabled: the entry is mastered by
	// the on-prem directory and kept by directory sync. Entries without it
	// are cloud-only, and sync never deletes them.
	SyncEnabled bool
	// ImmutableID is Graph's onPremisesImmutableId, the anchor that ties the
	// entry to its on-prem object across renames and moves.
	ImmutableID string
	// LastSync is Graph's onPremisesLastSyncDateTime; zero if never synced.
	LastSync time.Time
}

// Ref is the mailbox engine's name for u's mailbox.
func (u User) Ref() mailbox.Ref {
	return mailbox.Ref{ID: u.MailboxGUID, Address: u.Mail, Database: u.Database}
}

// Directory is a directory stored in SQLite.
type Directory struct {
	db   *sql.DB
	side Premises
	// lookup is prepared once: every request of the front door looks its
	// user up, and SQLite's parse is most of the cost of a lookup.
	lookup *sql.Stmt
}

// ErrNotFound is returned when no user matches.
var ErrNotFound = store.ErrNotFound

// Open opens (creating if needed) the directory at path, kept by premises
// side.
func Open(path string, side Premises) (*Directory, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create directory folder: %w", err)
	}
	// Transactions take the write lock when they begin (_txlock=immediate):
	// a sync run reads, then writes, and a read transaction that would
	// upgrade while another writer committed fails at once with
	// SQLITE_BUSY, whatever the busy timeout. Begun immediately, a second
	// writer, in this process or another, waits up to the busy timeout.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
		"&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open directory: %w", err)
	}
	const ddl = `CREATE TABLE IF NOT EXISTS users (
		object_id TEXT PRIMARY KEY,
		upn TEXT NOT NULL UNIQUE COLLATE NOCASE,
		mail TEXT NOT NULL UNIQUE COLLATE NOCASE,
		display_name TEXT NOT NULL,
		premises TEXT NOT NULL,
		recipient_type TEXT NOT NULL,
		database_name TEXT NOT NULL DEFAULT '',
		mailbox_guid TEXT NOT NULL DEFAULT '',
		target_address TEXT NOT NULL DEFAULT '')`
	if _, err := db.Exec(ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("create directory tables: %w", err)
	}
	if err := migrateSync(db); err != nil {
		db.Close()
		return nil, err
	}
	lookup, err := db.Prepare(`SELECT ` + userColumns + ` FROM users
		WHERE object_id = ? COLLATE NOCASE OR upn = ? OR mail = ?
		OR object_id = (SELECT object_id FROM user_addresses WHERE address = ?) LIMIT 1`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("prepare directory lookup: %w", err)
	}
	return &Directory{db: db, side: side, lookup: lookup}, nil
}

// Close closes the directory.
func (d *Directory) Close() error {
	d.lookup.Close()
	return d.db.Close()
}

// Put adds or replaces u (matched by object id). It leaves the sync state
// (SyncEnabled, ImmutableID, LastSync) alone: only Apply writes that.
func (d *Directory) Put(ctx context.Context, u User) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO users (object_id, upn, mail, display_name,
		premises, recipient_type, database_name, mailbox_guid, target_address)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (object_id) DO UPDATE SET upn=excluded.upn, mail=excluded.mail,
		display_name=excluded.display_name, premises=excluded.premises,
		recipient_type=excluded.recipient_type, database_name=excluded.database_name,
		mailbox_guid=excluded.mailbox_guid, target_address=excluded.target_address`,
		u.ObjectID, u.UPN, u.Mail, u.DisplayName, string(u.Premises), u.RecipientType,
		u.Database, u.MailboxGUID, u.TargetAddress)
	if err != nil {
		return fmt.Errorf("put user %s: %w", u.UPN, err)
	}
	return nil
}

const userColumns = `object_id, upn, mail, display_name, premises, recipient_type,
	database_name, mailbox_guid, target_address, sync_enabled, immutable_id, last_sync`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var premises, lastSync string
	err := row.Scan(&u.ObjectID, &u.UPN, &u.Mail, &u.DisplayName, &premises, &u.RecipientType,
		&u.Database, &u.MailboxGUID, &u.TargetAddress, &u.SyncEnabled, &u.ImmutableID,
		&lastSync)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, err
	}
	u.Premises = Premises(premises)
	if lastSync != "" {
		if u.LastSync, err = time.Parse(time.RFC3339Nano, lastSync); err != nil {
			return User{}, fmt.Errorf("last sync time of %s: %w", u.UPN, err)
		}
	}
	return u, nil
}

// Lookup finds a user by object id, user principal name or SMTP address
// (primary or secondary), ignoring case: every form Graph accepts in
// /users/{id | userPrincipalName}, and every address mail reaches.
func (d *Directory) Lookup(ctx context.Context, key string) (User, error) {
	row := d.lookup.QueryRowContext(ctx, key, key, key, key)
	u, err := scanUser(row)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, fmt.Errorf("look up user: %w", err)
	}
	return u, err
}

// All lists every user, ordered by UPN.
func (d *Directory) All(ctx context.Context) ([]User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY upn`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// Locate implements mailbox.Directory: a mailbox of this directory's own
// premises is local; any other known address belongs to the other side.
func (d *Directory) Locate(ctx context.Context, address string) (mailbox.Location, error) {
	u, err := d.Lookup(ctx, strings.TrimSpace(address))
	if errors.Is(err, ErrNotFound) {
		return mailbox.Location{}, mailbox.ErrUnknownRecipient
	}
	if err != nil {
		return mailbox.Location{}, err
	}
	if u.Premises == d.side && u.Database != "" {
		return mailbox.Location{Local: true, Mailbox: u.Ref()}, nil
	}
	return mailbox.Location{}, nil
}
