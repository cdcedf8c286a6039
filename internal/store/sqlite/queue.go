package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Enqueue adds a message to the outbound queue. A zero NextAttempt means
// now. A duplicate id is ErrConflict.
func (db *DB) Enqueue(ctx context.Context, m store.Outbound) error {
	rcpts, err := json.Marshal(m.Recipients)
	if err != nil {
		return fmt.Errorf("enqueue: %w", err)
	}
	_, err = db.write.ExecContext(ctx,
		`INSERT INTO outbound (id, sender, recipients, mime, attempts, next_attempt, last_error)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.From, string(rcpts), m.MIME, m.Attempts, millis(m.NextAttempt), m.LastError)
	if err != nil {
		return storeError(err, "enqueue")
	}
	return nil
}

// Due returns up to limit queued messages whose next attempt is at or
// before now, the longest-waiting first.
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]store.Outbound, error) {
	rows, err := db.queryRead(ctx,
		`SELECT id, sender, recipients, mime, attempts, next_attempt, last_error
		 FROM outbound WHERE next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`,
		millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due: %w", err)
	}
	defer rows.Close()
	return collect(rows, scanOutbound)
}

func scanOutbound(r scanner) (store.Outbound, error) {
	var (
		m     store.Outbound
		rcpts string
		next  int64
	)
	if err := r.Scan(&m.ID, &m.From, &rcpts, &m.MIME, &m.Attempts, &next,
		&m.LastError); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(rcpts), &m.Recipients); err != nil {
		return m, fmt.Errorf("recipients of %s: %w", m.ID, err)
	}
	m.NextAttempt = time.UnixMilli(next).UTC()
	return m, nil
}

// Dequeue removes a delivered message, or fails with ErrNotFound.
func (db *DB) Dequeue(ctx context.Context, id string) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM outbound WHERE id = ?`, id)
	return oneRow(res, err, "dequeue")
}

// Defer records a failed attempt: the attempt count goes up by one and the
// message waits until next.
func (db *DB) Defer(ctx context.Context, id string, next time.Time, lastErr string) error {
	res, err := db.write.ExecContext(ctx,
		`UPDATE outbound SET attempts = attempts + 1, next_attempt = ?, last_error = ?
		 WHERE id = ?`, millis(next), lastErr, id)
	return oneRow(res, err, "defer")
}

// millis stores times as Unix milliseconds; the zero time is 0 (due at once).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
