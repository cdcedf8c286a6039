package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Mailbox moves (package move) keep their progress here, in the cloud
// directory, next to the entries a move switches: a move that is stopped
// (killed, failed) is found again by its user and resumed or rolled back
// from the phase it recorded. One unfinished job per user is allowed, as
// Exchange allows one move request per mailbox (New-MoveRequest refuses a
// second while one exists).

// MailboxLocation is where a mailbox lives: a premises and a mailbox
// database there.
type MailboxLocation struct {
	Premises Premises
	Database string
}

func (l MailboxLocation) String() string { return string(l.Premises) + "/" + l.Database }

// MoveJob is one mailbox move, as recorded.
type MoveJob struct {
	ID          string
	UserID      string // the user's object id in the cloud directory
	UPN         string
	MailboxGUID string
	Source      MailboxLocation
	Target      MailboxLocation
	// Phase is the last phase the move finished; package move names them.
	Phase string
	// Watermark is the source's change number up to which the target has
	// every change.
	Watermark int64
	// Cursor is the id of the last item copied in the copy phase.
	Cursor string
	// Copied counts the items the copy phase wrote.
	Copied    int64
	Created   time.Time
	Updated   time.Time
	Switched  time.Time // when the directory entries were switched
	Finished  time.Time // zero while the job is unfinished
	LastError string
}

// ErrMoveInProgress means the user has an unfinished move already.
var ErrMoveInProgress = errors.New("an unfinished move exists")

const moveColumns = `id, user_id, upn, mailbox_guid, source_premises, source_database,
	target_premises, target_database, phase, watermark, cursor, copied, created, updated,
	switched, finished, last_error`

// migrateMoves creates the move_jobs table. It runs before every job
// operation (CREATE TABLE IF NOT EXISTS costs one schema lookup): only the
// cloud directory holds jobs, and only the move command touches them.
func (d *Directory) migrateMoves(ctx context.Context) error {
	if d.side != Cloud {
		return errors.New("move jobs: only the cloud directory holds them")
	}
	_, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS move_jobs (
		id TEXT PRIMARY KEY,
		user_id TEXT NOT NULL,
		upn TEXT NOT NULL,
		mailbox_guid TEXT NOT NULL,
		source_premises TEXT NOT NULL,
		source_database TEXT NOT NULL,
		target_premises TEXT NOT NULL,
		target_database TEXT NOT NULL,
		phase TEXT NOT NULL,
		watermark INTEGER NOT NULL DEFAULT 0,
		cursor TEXT NOT NULL DEFAULT '',
		copied INTEGER NOT NULL DEFAULT 0,
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		switched TEXT NOT NULL DEFAULT '',
		finished TEXT NOT NULL DEFAULT '',
		last_error TEXT NOT NULL DEFAULT '')`)
	if err != nil {
		return fmt.Errorf("create move_jobs: %w", err)
	}
	// One unfinished job per user, kept by the database.
	_, err = d.db.ExecContext(ctx, `CREATE UNIQUE INDEX IF NOT EXISTS move_jobs_unfinished
		ON move_jobs (user_id) WHERE finished = ''`)
	if err != nil {
		return fmt.Errorf("create move_jobs index: %w", err)
	}
	return nil
}

// StartMove records a new job. A user with an unfinished job gets
// ErrMoveInProgress.
func (d *Directory) StartMove(ctx context.Context, j MoveJob) error {
	if err := d.migrateMoves(ctx); err != nil {
		return err
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO move_jobs (`+moveColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, moveArgs(j)...)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed: move_jobs.user_id") {
		return fmt.Errorf("move of %s: %w", j.UPN, ErrMoveInProgress)
	}
	if err != nil {
		return fmt.Errorf("record move of %s: %w", j.UPN, err)
	}
	return nil
}

// ErrMoveChanged means a job was saved by someone else since it was read:
// another process is carrying it on (or rolling it back), and this one
// must stop.
var ErrMoveChanged = errors.New("the move job was changed by another process")

// SaveMove writes a job's progress (every field but its id and user) if
// the job is still as read, that is last saved at read (its Updated then):
// a compare-and-swap, so that two processes on one job cannot both go on.
// A job saved since is ErrMoveChanged, an unknown one ErrNotFound.
func (d *Directory) SaveMove(ctx context.Context, j MoveJob, read time.Time) error {
	if err := d.migrateMoves(ctx); err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `UPDATE move_jobs SET phase = ?, watermark = ?,
		cursor = ?, copied = ?, updated = ?, switched = ?, finished = ?, last_error = ?
		WHERE id = ? AND updated = ?`,
		j.Phase, j.Watermark, j.Cursor, j.Copied, stamp(j.Updated), stamp(j.Switched),
		stamp(j.Finished), j.LastError, j.ID, stamp(read))
	if err != nil {
		return fmt.Errorf("save move of %s: %w", j.UPN, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var one int
	err = d.db.QueryRowContext(ctx, `SELECT 1 FROM move_jobs WHERE id = ?`, j.ID).Scan(&one)
	if err != nil {
		return fmt.Errorf("save move %s: %w", j.ID, ErrNotFound)
	}
	return fmt.Errorf("save move of %s: %w", j.UPN, ErrMoveChanged)
}

// UnfinishedMove returns the user's unfinished job, or ErrNotFound.
func (d *Directory) UnfinishedMove(ctx context.Context, userID string) (MoveJob, error) {
	jobs, err := d.moves(ctx, `user_id = ? AND finished = ''`, userID)
	if err != nil {
		return MoveJob{}, err
	}
	if len(jobs) == 0 {
		return MoveJob{}, ErrNotFound
	}
	return jobs[0], nil
}

// Moves lists the user's jobs, oldest first.
func (d *Directory) Moves(ctx context.Context, userID string) ([]MoveJob, error) {
	return d.moves(ctx, `user_id = ?`, userID)
}

func (d *Directory) moves(ctx context.Context, where string, args ...any) ([]MoveJob, error) {
	if err := d.migrateMoves(ctx); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+moveColumns+` FROM move_jobs WHERE `+
		where+` ORDER BY created, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list moves: %w", err)
	}
	defer rows.Close()
	var jobs []MoveJob
	for rows.Next() {
		j, err := scanMove(rows)
		if err != nil {
			return nil, fmt.Errorf("list moves: %w", err)
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

func moveArgs(j MoveJob) []any {
	return []any{j.ID, j.UserID, j.UPN, j.MailboxGUID, string(j.Source.Premises),
		j.Source.Database, string(j.Target.Premises), j.Target.Database, j.Phase, j.Watermark,
		j.Cursor, j.Copied, stamp(j.Created), stamp(j.Updated), stamp(j.Switched),
		stamp(j.Finished), j.LastError}
}

func scanMove(row interface{ Scan(...any) error }) (MoveJob, error) {
	var j MoveJob
	var sp, tp string
	var times [4]string
	err := row.Scan(&j.ID, &j.UserID, &j.UPN, &j.MailboxGUID, &sp, &j.Source.Database,
		&tp, &j.Target.Database, &j.Phase, &j.Watermark, &j.Cursor, &j.Copied,
		&times[0], &times[1], &times[2], &times[3], &j.LastError)
	if err != nil {
		return MoveJob{}, err
	}
	j.Source.Premises, j.Target.Premises = Premises(sp), Premises(tp)
	for i, dst := range []*time.Time{&j.Created, &j.Updated, &j.Switched, &j.Finished} {
		if times[i] == "" {
			continue
		}
		if *dst, err = time.Parse(time.RFC3339Nano, times[i]); err != nil {
			return MoveJob{}, fmt.Errorf("move %s: time %q: %w", j.ID, times[i], err)
		}
	}
	return j, nil
}

// stamp formats t for the table; the zero time is "".
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Placement is what a directory entry says about where a mailbox lives,
// the part of the entry a move switches.
type Placement struct {
	Premises      Premises
	RecipientType string
	Database      string
	TargetAddress string
}

// Place switches the entry of objectID to p, leaving its name, addresses,
// mailbox GUID and sync state alone. ErrNotFound if there is no entry.
func (d *Directory) Place(ctx context.Context, objectID string, p Placement) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET premises = ?, recipient_type = ?,
		database_name = ?, target_address = ? WHERE object_id = ?`,
		string(p.Premises), p.RecipientType, p.Database, p.TargetAddress, objectID)
	if err != nil {
		return fmt.Errorf("place %s: %w", objectID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("place %s: %w", objectID, err)
	}
	if n == 0 {
		return fmt.Errorf("place %s: %w", objectID, ErrNotFound)
	}
	return nil
}

// Placement returns what u's entry says about where its mailbox lives.
func (u User) Placement() Placement {
	return Placement{Premises: u.Premises, RecipientType: u.RecipientType,
		Database: u.Database, TargetAddress: u.TargetAddress}
}
