package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// The change log's statements (see sqlstore's changes.go for the model).
var (
	bumpSQL      = sqlstore.BumpSQL(dialect)
	tombstoneSQL = sqlstore.TombstoneSQL(dialect)
	arriveSQL    = sqlstore.ArriveSQL(dialect)
	undeleteSQL  = sqlstore.UndeleteSQL(dialect)
	upsertSQL    = sqlstore.UpsertSQL(dialect)
)

// bump takes the next n change numbers of a mailbox and returns the last.
// A locked mailbox is ErrMailboxLocked, a missing one ErrNotFound.
func bump(ctx context.Context, tx *sql.Tx, mailboxID string, n int) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, bumpSQL, n, mailboxID).Scan(&seq)
	if err == nil {
		return seq, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("change number: %w", err)
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM mailboxes WHERE id = ?`, mailboxID).Scan(&one)
	if err != nil {
		return 0, notFound(err, "mailbox "+mailboxID)
	}
	return 0, fmt.Errorf("mailbox %s: %w", mailboxID, store.ErrMailboxLocked)
}

// bumpAll takes one change number per item from its mailbox and returns
// them in the items' order. Mailboxes are bumped in id order, so that two
// batches over the same mailboxes cannot wait on each other.
func bumpAll(ctx context.Context, tx *sql.Tx, items []store.Item) ([]int64, error) {
	count := map[string]int{}
	for _, it := range items {
		count[it.MailboxID]++
	}
	next := map[string]int64{}
	for _, m := range slices.Sorted(maps.Keys(count)) {
		last, err := bump(ctx, tx, m, count[m])
		if err != nil {
			return nil, err
		}
		next[m] = last - int64(count[m]) + 1
	}
	seqs := make([]int64, len(items))
	for i, it := range items {
		seqs[i] = next[it.MailboxID]
		next[it.MailboxID]++
	}
	return seqs, nil
}

// arrive records that an item came into its folder: that folder's
// tombstone for it goes. A new item (fresh) also turns its id's deleted
// tombstones into "moved out" ones.
func arrive(ctx context.Context, tx *sql.Tx, it store.Item, fresh bool) error {
	if _, err := tx.ExecContext(ctx, arriveSQL, it.MailboxID, it.FolderID, it.ID); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	if !fresh {
		return nil
	}
	if _, err := tx.ExecContext(ctx, undeleteSQL, it.MailboxID, it.ID); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	return nil
}

// moved records a move of it out of folder from at change seq, if it moved.
func moved(ctx context.Context, tx *sql.Tx, it store.Item, from string, seq int64) error {
	if from == it.FolderID {
		return nil
	}
	if _, err := tx.ExecContext(ctx, tombstoneSQL, it.MailboxID, it.ID, from, seq,
		false); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	return arrive(ctx, tx, it, false)
}

// ChangeSeq returns the mailbox's latest change number, or ErrNotFound.
func (db *DB) ChangeSeq(ctx context.Context, mailboxID string) (int64, error) {
	var seq int64
	err := db.queryReadRow(ctx, `SELECT change_seq FROM mailboxes WHERE id = ?`, mailboxID).
		Scan(&seq)
	if err != nil {
		return 0, notFound(err, "mailbox")
	}
	return seq, nil
}

// Changes returns up to limit changes after a change number (see
// store.Store).
func (db *DB) Changes(ctx context.Context, mailboxID, folderID string, after int64,
	limit int) ([]store.Change, error) {
	query, args := sqlstore.ChangesSQL(dialect, mailboxID, folderID, after, limit)
	rows, err := db.queryRead(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	defer rows.Close()
	return collect(rows, sqlstore.ScanChange(mailboxID))
}

// PutItems inserts or replaces items as given, each with the next change
// number of its mailbox; an item put into another folder than its stored
// one leaves a tombstone there.
func (db *DB) PutItems(ctx context.Context, items ...store.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		seqs, err := bumpAll(ctx, tx, items)
		if err != nil {
			return err
		}
		// Prepared once per batch: the upsert names every column, and
		// parsing it per item costs as much as the write.
		upsert, err := tx.PrepareContext(ctx, upsertSQL)
		if err != nil {
			return fmt.Errorf("prepare put: %w", err)
		}
		defer upsert.Close()
		for i, it := range items {
			if err := putItem(ctx, tx, upsert, it, seqs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func putItem(ctx context.Context, tx *sql.Tx, upsert *sql.Stmt, it store.Item,
	seq int64) error {
	args, err := insertArgs(it, seq)
	if err != nil {
		return err
	}
	var from string
	err = tx.QueryRowContext(ctx, `SELECT folder_id FROM messages
		WHERE mailbox_id = ? AND id = ?`, it.MailboxID, it.ID).Scan(&from)
	fresh := errors.Is(err, sql.ErrNoRows)
	if err != nil && !fresh {
		return fmt.Errorf("put item: %w", err)
	}
	if _, err := upsert.ExecContext(ctx, args...); err != nil {
		return storeError(err, "put item")
	}
	if fresh {
		return arrive(ctx, tx, it, true)
	}
	return moved(ctx, tx, it, from, seq)
}

// LockMailbox locks or unlocks a mailbox's item writes. The single
// writer connection means no write of this process is in progress when it
// runs, and BEGIN IMMEDIATE makes other processes' writes finish first.
func (db *DB) LockMailbox(ctx context.Context, mailboxID string, lease time.Duration) error {
	q, args := sqlstore.LockSQL(dialect, mailboxID, lease, false)
	res, err := db.write.ExecContext(ctx, q, args...)
	return oneRow(res, err, "lock mailbox")
}

// RenewMailboxLock extends a lock that still holds.
func (db *DB) RenewMailboxLock(ctx context.Context, mailboxID string, lease time.Duration) (
	bool, error) {
	q, args := sqlstore.LockSQL(dialect, mailboxID, lease, true)
	res, err := db.write.ExecContext(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("renew mailbox lock: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteMailbox removes a mailbox with its folders, items and change log.
func (db *DB) DeleteMailbox(ctx context.Context, mailboxID string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"tombstones", "messages", "folders"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE mailbox_id = ?`,
				mailboxID); err != nil {
				return fmt.Errorf("delete mailbox: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, mailboxID)
		return oneRow(res, err, "delete mailbox")
	})
}
