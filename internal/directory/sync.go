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
//
// Failed names the entries the source could not read (a malformed GUID,
// say): each is a failed entry of the run. In a Full batch an entry failed
// with its immutable id counts as present; one failed without an id holds
// every deletion of the run unless confirmed, since the entry may be any
// synced user.
type Batch struct {
	Upserts []SourceUser `json:"upserts"`
	Deletes []string     `json:"deletes"`
	Present []string     `json:"present,omitempty"`
	Full    bool         `json:"full"`
	Failed  []Problem    `json:"failed,omitempty"`
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

// Problem is one entry a run left alone, named by its immutable id, its
// UPN or, for an entry the source could not read, its DN (whichever are
// known).
type Problem struct {
	ImmutableID string `json:"immutableId,omitempty"`
	UPN         string `json:"userPrincipalName,omitempty"`
	DN          string `json:"dn,omitempty"`
	Reason      string `json:"reason"`
	// Held marks a deletion held back by the threshold; other problems
	// are failed entries.
	Held bool `json:"held,omitempty"`
}

// Name names the entry for people: its UPN, else its DN, else its id.
func (p Problem) Name() string {
	switch {
	case p.UPN != "":
		return p.UPN
	case p.DN != "":
		return p.DN
	}
	return p.ImmutableID
}

func (s *Summary) fail(id, upn, reason string) {
	s.Failed++
	s.Problems = append(s.Problems, Problem{ImmutableID: id, UPN: upn, Reason: reason})
}

// ErrInvalidBatch marks a batch that cannot be applied at all.
var ErrInvalidBatch = errors.New("invalid sync batch")

// Apply applies one sync run in one transaction: a failed run changes
// nothing. Entries that conflict (a UPN or address held by another user,
// synced or cloud-only) or that the cloud cannot take (no immutable id, UPN
// or mail, another recipient type, a malformed address) are reported in
// the summary as failed and left alone; the rest of the run applies. Only a
// malformed batch as a whole (an immutable id listed twice) is refused.
// Only the cloud directory receives sync.
func (d *Directory) Apply(ctx context.Context, b Batch, o SyncOptions) (Summary, error) {
	if d.side != Cloud {
		return Summary{}, fmt.Errorf("%w: only the cloud directory receives sync",
			ErrInvalidBatch)
	}
	bad, err := b.validate()
	if err != nil {
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
	for _, p := range b.Failed {
		p.Held = false
		sum.Failed++
		sum.Problems = append(sum.Problems, p)
	}
	if err := r.upsertAll(ctx, b.Upserts, bad); err != nil {
		return Summary{}, err
	}
	if err := r.deleteAll(ctx, b); err != nil {
		return Summary{}, err
	}
	if err := r.keepHeld(ctx); err != nil {
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

// validate refuses a malformed batch and returns, by position in
// Upserts, the entries the cloud cannot take and why.
func (b Batch) validate() (map[int]string, error) {
	seen := map[string]bool{}
	bad := map[int]string{}
	for i, u := range b.Upserts {
		if u.ImmutableID != "" && seen[u.ImmutableID] {
			return nil, fmt.Errorf("%w: immutable id %q appears twice", ErrInvalidBatch,
				u.ImmutableID)
		}
		seen[u.ImmutableID] = true
		if reason := u.Invalid(); reason != "" {
			bad[i] = reason
		}
	}
	return bad, nil
}

// Invalid says why the cloud cannot take u, or "" when it can: a source
// checks its entries with it, to name the failed entry by its own name
// (an LDAP DN, say), and the cloud checks every entry again.
func (u SourceUser) Invalid() string {
	var missing []string
	for _, f := range []struct{ name, value string }{{"immutable id", u.ImmutableID},
		{"userPrincipalName", u.UPN}, {"mail", u.Mail}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return "no " + strings.Join(missing, ", ")
	}
	for _, a := range append([]string{u.UPN, u.Mail}, u.ProxyAddresses...) {
		if !validAddress(a) {
			return fmt.Sprintf("address %q is not an SMTP address", a)
		}
	}
	if u.RecipientType != UserMailbox && u.RecipientType != RemoteUserMailbox {
		return fmt.Sprintf("recipient type %q is not a mailbox user", u.RecipientType)
	}
	return ""
}

// validAddress reports whether a is local@domain with both parts present
// and no spaces (RFC 5321 §4.1.2 Mailbox, loosely).
func validAddress(a string) bool {
	local, domain, ok := strings.Cut(a, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(a, " \t\r\n<>") &&
		!strings.Contains(domain, "@")
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
	// The deletions the last run held back by the threshold.
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS sync_held (
		immutable_id TEXT PRIMARY KEY, upn TEXT NOT NULL, since TEXT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("create held-deletion table: %w", err)
	}
	return nil
}

// HeldDelete is a deletion the cloud holds back: the source deleted the
// user, and the cloud still routes it until an admin confirms.
type HeldDelete struct {
	ImmutableID string    `json:"immutableId"`
	UPN         string    `json:"userPrincipalName"`
	Since       time.Time `json:"since"`
}

// HeldDeletes lists the deletions the last sync run held back, each with
// the time it was first held, ordered by UPN.
func (d *Directory) HeldDeletes(ctx context.Context) ([]HeldDelete, error) {
	rows, err := d.db.QueryContext(ctx,
		`SELECT immutable_id, upn, since FROM sync_held ORDER BY upn`)
	if err != nil {
		return nil, fmt.Errorf("read held deletions: %w", err)
	}
	defer rows.Close()
	var out []HeldDelete
	for rows.Next() {
		var h HeldDelete
		var since string
		if err := rows.Scan(&h.ImmutableID, &h.UPN, &since); err != nil {
			return nil, fmt.Errorf("read held deletions: %w", err)
		}
		if h.Since, err = time.Parse(time.RFC3339Nano, since); err != nil {
			return nil, fmt.Errorf("read held deletions: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
