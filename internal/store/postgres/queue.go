package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// ClaimLease is how long a message Due returned stays out of other
// callers' Due answers, unless Defer or Dequeue settles it first. It
// bounds how long a crashed worker delays a message.
const ClaimLease = 10 * time.Minute

// Enqueue adds a message to the outbound queue. A zero NextAttempt means
// now. A duplicate id, or the id of a message delivered in the last
// DoneKept, is ErrConflict.
func (db *DB) Enqueue(ctx context.Context, m store.Outbound) error {
	rcpts, err := json.Marshal(m.Recipients)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	tag, err := db.pool.Exec(ctx,
		`INSERT INTO outbound (id, sender, recipients, mime, attempts, next_attempt, last_error)
		 SELECT $1::text, $2::text, $3::text, $4::bytea, $5::integer, $6::bigint, $7::text
		 WHERE NOT EXISTS (SELECT 1 FROM outbound_done WHERE id = $1::text)`,
		m.ID, m.From, string(rcpts), m.MIME, m.Attempts, sqlstore.Millis(m.NextAttempt), m.LastError)
	if err != nil {
		return storeError(err, "enqueue")
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("enqueue %s: delivered already: %w", m.ID, store.ErrConflict)
	}
	return nil
}

// dueSQL claims up to $3 due messages, the longest-waiting first. SKIP
// LOCKED passes over rows another caller is claiming at this moment, and
// claimed_until hides the claimed ones from later callers until the lease
// ends (https://www.postgresql.org/docs/15/sql-select.html#SQL-FOR-UPDATE-SHARE).
const dueSQL = `WITH claimed AS (
	UPDATE outbound o SET claimed_until = $2
	FROM (SELECT id FROM outbound WHERE next_attempt <= $1 AND claimed_until <= $1
		ORDER BY next_attempt, id LIMIT $3 FOR UPDATE SKIP LOCKED) d
	WHERE o.id = d.id
	RETURNING o.id, o.sender, o.recipients, o.mime, o.attempts, o.next_attempt, o.last_error)
SELECT * FROM claimed ORDER BY next_attempt, id`

// Due claims and returns up to limit queued messages whose next attempt is
// at or before now, the longest-waiting first. A claimed message is not
// returned again for ClaimLease after now, unless Defer settles it, so
// that two processes running the queue never deliver it twice.
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]store.Outbound, error) {
	rows, err := db.pool.Query(ctx, dueSQL, sqlstore.Millis(now),
		sqlstore.Millis(now.Add(ClaimLease)), limit)
	if err != nil {
		return nil, fmt.Errorf("due: %w", err)
	}
	return collect(rows, sqlstore.ScanOutbound, "due")
}

// Dequeue removes a delivered message, or fails with ErrNotFound, and
// keeps its id for sqlstore.DoneKept (forgetting older ones).
func (db *DB) Dequeue(ctx context.Context, id string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM outbound WHERE id = $1`, id)
		if err := oneRow(tag, err, "dequeue"); err != nil {
			return err
		}
		now := time.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO outbound_done (id, done_at) VALUES ($1, $2)
			ON CONFLICT (id) DO NOTHING`, id, sqlstore.Millis(now)); err != nil {
			return fmt.Errorf("dequeue: %w", err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM outbound_done WHERE done_at < $1`,
			sqlstore.Millis(now.Add(-sqlstore.DoneKept)))
		if err != nil {
			return fmt.Errorf("dequeue: %w", err)
		}
		return nil
	})
}

// Defer records a failed attempt: the attempt count goes up by one, the
// claim ends, and the message waits until next.
func (db *DB) Defer(ctx context.Context, id string, next time.Time, lastErr string) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE outbound SET attempts = attempts + 1, next_attempt = $1, last_error = $2,
		 claimed_until = 0 WHERE id = $3`, sqlstore.Millis(next), lastErr, id)
	return oneRow(tag, err, "defer")
}
