package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultDeleteThreshold is the share of synced users one run may delete
// before its deletions are held for confirmation. Directory-sync tools hold
// back an export that deletes more than a set number of objects ("prevent
// accidental deletes") so that a broken source cannot empty the cloud.
const DefaultDeleteThreshold = 0.10

// SourceUser is one user as the on-prem directory describes it. Its
// RecipientType is the on-prem one: a UserMailbox is a mailbox on premises;
// a RemoteUserMailbox is a mailbox in the cloud (exchange-hybrid.md §3.1).
type SourceUser struct {
	ImmutableID   string `json:"immutableId"`
	UPN           string `json:"userPrincipalName"`
	Mail          string `json:"mail"`
	DisplayName   string `json:"displayName"`
	RecipientType string `json:"recipientType"`
	MailboxGUID   string `json:"mailboxGuid"`
	// ProxyAddresses are the user's secondary SMTP addresses (the smtp:
	// entries of proxyAddresses). Mail to them reaches the user, so they
	// take part in lookups and in the collision check.
	ProxyAddresses []string `json:"proxyAddresses,omitempty"`
	// Database is the mailbox database of a mailbox on premises (the CN of
	// homeMDB); empty when the source does not say.
	Database string `json:"database,omitempty"`
}

// Batch is one sync run. Upserts add, update or move users. Deletes names
// users (by immutable id) gone from the source. A Full batch is the whole
// source, so synced users it leaves out are deleted too: the full compare
// of a source that cannot say what changed. Present names, in a Full batch,
// users that are in the source but unchanged, so not in Upserts: an LDAP
// Sync present phase (RFC 4533 §3.3.1) lists the unchanged entries
// without their content, and every entry it does not list is gone.
type Batch struct {
	Upserts []SourceUser `json:"upserts"`
	Deletes []string     `json:"deletes"`
	Present []string     `json:"present,omitempty"`
	Full    bool         `json:"full"`
}

// SyncOptions tunes Apply.
type SyncOptions struct {
	// DeleteThreshold is the share of synced users above which a run's
	// deletions are held; 0 means DefaultDeleteThreshold.
	DeleteThreshold float64
	// ConfirmDeletes lets a run delete past the threshold.
	ConfirmDeletes bool
	// CloudDatabase houses a mailbox that moved to the cloud and had no
	// cloud database yet.
	CloudDatabase string
	// Now stamps the run; nil means time.Now.
	Now func() time.Time
}

// Summary reports what one run did. Problems say, per user, why an entry
// was held or failed.
type Summary struct {
	Added    int       `json:"added"`
	Updated  int       `json:"updated"`
	Deleted  int       `json:"deleted"`
	Held     int       `json:"held"`
	Failed   int       `json:"failed"`
	Problems []Problem `json:"problems,omitempty"`
	SyncedAt time.Time `json:"syncedAt"`
}

// Problem is one entry a run left alone.
type Problem struct {
	ImmutableID string `json:"immutableId"`
	UPN         string `json:"userPrincipalName,omitempty"`
	Reason      string `json:"reason"`
}

func (s *Summary) fail(id, upn, reason string) {
	s.Failed++
	s.Problems = append(s.Problems, Problem{ImmutableID: id, UPN: upn, Reason: reason})
}

// ErrInvalidBatch marks a batch that cannot be applied at all.
var ErrInvalidBatch = errors.New("invalid sync batch")

// Apply applies one sync run in one transaction: a failed run changes
// nothing. Entries that conflict (a UPN or address held by another user, a
// delete of a cloud-only user) are reported in the summary and left alone.
// Only the cloud directory receives sync.
func (d *Directory) Apply(ctx context.Context, b Batch, o SyncOptions) (Summary, error) {
	if d.side != Cloud {
		return Summary{}, fmt.Errorf("%w: only the cloud directory receives sync",
			ErrInvalidBatch)
	}
	if err := b.validate(); err != nil {
		return Summary{}, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	sum := Summary{SyncedAt: now().UTC()}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return Summary{}, fmt.Errorf("begin sync: %w", err)
	}
	defer tx.Rollback()

	r := syncRun{tx: tx, opts: o, sum: &sum}
	if err := r.upsertAll(ctx, b.Upserts); err != nil {
		return Summary{}, err
	}
	if err := r.deleteAll(ctx, b); err != nil {
		return Summary{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO organization_sync (id, last_sync)
		VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET last_sync = excluded.last_sync`,
		sum.SyncedAt.Format(time.RFC3339Nano)); err != nil {
		return Summary{}, fmt.Errorf("record sync time: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Summary{}, fmt.Errorf("commit sync: %w", err)
	}
	return sum, nil
}

func (b Batch) validate() error {
	seen := map[string]bool{}
	for _, u := range b.Upserts {
		switch {
		case u.ImmutableID == "" || u.UPN == "" || u.Mail == "":
			return fmt.Errorf("%w: user %q lacks an immutable id, UPN or mail",
				ErrInvalidBatch, u.UPN)
		case seen[u.ImmutableID]:
			return fmt.Errorf("%w: immutable id %q appears twice", ErrInvalidBatch,
				u.ImmutableID)
		case u.RecipientType != UserMailbox && u.RecipientType != RemoteUserMailbox:
			return fmt.Errorf("%w: user %q has recipient type %q", ErrInvalidBatch,
				u.UPN, u.RecipientType)
		}
		for _, a := range u.ProxyAddresses {
			if !strings.Contains(a, "@") {
				return fmt.Errorf("%w: user %q has proxy address %q", ErrInvalidBatch,
					u.UPN, a)
			}
		}
		seen[u.ImmutableID] = true
	}
	return nil
}

// LastSync returns the organisation's last successful sync, zero if none
// (Graph organization onPremisesLastSyncDateTime).
func (d *Directory) LastSync(ctx context.Context) (time.Time, error) {
	var s string
	err := d.db.QueryRowContext(ctx,
		`SELECT last_sync FROM organization_sync WHERE id = 1`).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read last sync: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("read last sync: %w", err)
	}
	return t, nil
}

// migrateSync adds the sync state to a directory created before it.
func migrateSync(db *sql.DB) error {
	for _, col := range []string{
		`sync_enabled INTEGER NOT NULL DEFAULT 0`,
		`immutable_id TEXT NOT NULL DEFAULT ''`,
		`last_sync TEXT NOT NULL DEFAULT ''`,
	} {
		_, err := db.Exec(`ALTER TABLE users ADD COLUMN ` + col)
		if err != nil && !strings.Contains(err.Error(), "duplicate column") {
			return fmt.Errorf("add sync column: %w", err)
		}
	}
	_, err := db.Exec(`CREATE TABLE IF NOT EXISTS organization_sync (
		id INTEGER PRIMARY KEY CHECK (id = 1), last_sync TEXT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("create sync table: %w", err)
	}
	// A user's secondary SMTP addresses; an address belongs to one user.
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS user_addresses (
		address TEXT PRIMARY KEY COLLATE NOCASE,
		object_id TEXT NOT NULL)`)
	if err == nil {
		_, err = db.Exec(`CREATE INDEX IF NOT EXISTS user_addresses_object
			ON user_addresses (object_id)`)
	}
	if err != nil {
		return fmt.Errorf("create address table: %w", err)
	}
	return nil
}
