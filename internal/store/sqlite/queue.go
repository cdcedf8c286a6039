package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// Enqueue adds a message to the outbound queue. A zero NextAttempt means
// now. A duplicate id, or the id of a message delivered in the last
// DoneKept, is ErrConflict.
func (db *DB) Enqueue(ctx context.Context, m store.Outbound) error {
	rcpts, err := json.Marshal(m.Recipients)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	res, err := db.write.ExecContext(ctx,
		`INSERT INTO outbound (id, sender, recipients, mime, attempts, next_attempt, last_error)
		 SELECT ?, ?, ?, ?, ?, ?, ?
		 WHERE NOT EXISTS (SELECT 1 FROM outbound_done WHERE id = ?)`,
		m.ID, m.From, string(rcpts), m.MIME, m.Attempts, sqlstore.Millis(m.NextAttempt), m.LastError,
		m.ID)
	if err != nil {
		return storeError(err, "enqueue")
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("enqueue %s: delivered already: %w", m.ID, store.ErrConflict)
	}
	return nil
}

// Due returns up to limit queued messages whose next attempt is at or
// before now, the longest-waiting first.
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]store.Outbound, error) {
	rows, err := db.queryRead(ctx,
		`SELECT id, sender, recipients, mime, attempts, next_attempt, last_error
		 FROM outbound WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
		sqlstore.Millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due: %w", err)
	}
	defer rows.Close()
	return collect(rows, sqlstore.ScanOutbound)
}

// Dequeue removes a delivered message, or fails with ErrNotFound, and
// keeps its id for sqlstore.DoneKept (forgetting older ones).
func (db *DB) Dequeue(ctx context.Context, id string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM outbound WHERE id = ?`, id)
		if err := oneRow(res, err, "dequeue"); err != nil {
			return err
		}
		now := time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbound_done (id, done_at) VALUES (?, ?)
			ON CONFLICT (id) DO NOTHING`, id, sqlstore.Millis(now)); err != nil {
			return fmt.Errorf("dequeue: %w", err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM outbound_done WHERE done_at < ?`,
			sqlstore.Millis(now.Add(-sqlstore.DoneKept)))
		if err != nil {
			return fmt.Errorf("dequeue: %w", err)
		}
		return nil
	})
}

// Defer records a failed attempt: the attempt count goes up by one and the
// message waits until next.
func (db *DB) Defer(ctx context.Context, id string, next time.Time, lastErr string) error {
	res, err := db.write.ExecContext(ctx,
		`UPDATE outbound SET attempts = attempts + 1, next_attempt = ?, last_error = ?
		 WHERE id = ?`, sqlstore.Millis(next), lastErr, id)
	return oneRow(res, err, "defer")
}
