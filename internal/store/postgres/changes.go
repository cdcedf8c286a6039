package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

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
// The UPDATE locks the mailbox row until the transaction ends: the
// writers of a mailbox commit in the order of their numbers. A locked
// mailbox is ErrMailboxLocked, a missing one ErrNotFound.
func bump(ctx context.Context, tx pgx.Tx, mailboxID string, n int) (int64, error) {
	var seq int64
	err := tx.QueryRow(ctx, bumpSQL, n, mailboxID).Scan(&seq)
	if err == nil {
		return seq, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("change number: %w", err)
	}
	var one int
	err = tx.QueryRow(ctx, `SELECT 1 FROM mailboxes WHERE id = $1`, mailboxID).Scan(&one)
	if err != nil {
		return 0, notFound(err, "mailbox "+mailboxID)
	}
	return 0, fmt.Errorf("mailbox %s: %w", mailboxID, store.ErrMailboxLocked)
}

// bumpAll takes one change number per item from its mailbox and returns
// them in the items' order. Mailboxes are bumped in id order, so that two
// batches over the same mailboxes cannot deadlock.
func bumpAll(ctx context.Context, tx pgx.Tx, items []store.Item) ([]int64, error) {
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

// queueArrive records that an item came into its folder: that folder's
// tombstone for it goes. A new item (fresh) also turns its id's deleted
// tombstones into "moved out" ones.
func queueArrive(b *pgx.Batch, it store.Item, fresh bool) {
	b.Queue(arriveSQL, it.MailboxID, it.FolderID, it.ID)
	if fresh {
		b.Queue(undeleteSQL, it.MailboxID, it.ID)
	}
}

// queueMoved records a move of it out of folder from at change seq, if it
// moved.
func queueMoved(b *pgx.Batch, it store.Item, from string, seq int64) {
	if from == it.FolderID {
		return
	}
	b.Queue(tombstoneSQL, it.MailboxID, it.ID, from, seq, false)
	queueArrive(b, it, false)
}

// ChangeSeq returns the mailbox's latest change number, or ErrNotFound.
func (db *DB) ChangeSeq(ctx context.Context, mailboxID string) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT change_seq FROM mailboxes WHERE id = $1`,
		mailboxID).Scan(&seq)
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
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("changes: %w", err)
	}
	return collect(rows, sqlstore.ScanChange(mailboxID), "changes")
}

// PutItems inserts or replaces items as given, each with the next change
// number of its mailbox; an item put into another folder than its stored
// one leaves a tombstone there. The whole batch takes one query per
// mailbox to learn which items exist and one round trip to write: a
// mailbox move copies through here.
func (db *DB) PutItems(ctx context.Context, items ...store.Item) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		seqs, err := bumpAll(ctx, tx, items)
		if err != nil {
			return err
		}
		stored, err := storedFolders(ctx, tx, items)
		if err != nil {
			return err
		}
		var batch pgx.Batch
		for i, it := range items {
			args, err := insertArgs(it, seqs[i])
			if err != nil {
				return err
			}
			batch.Queue(upsertSQL, args...)
			key := [2]string{it.MailboxID, it.ID}
			if from, ok := stored[key]; ok {
				queueMoved(&batch, it, from, seqs[i])
			} else {
				queueArrive(&batch, it, true)
			}
			// A later put of the same id in this batch finds this one.
			stored[key] = it.FolderID
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return storeError(err, "put items")
	}
	return nil
}

// storedFolders returns the stored folder of each of items that exists,
// keyed by mailbox and id. bumpAll has locked the mailboxes' rows, so no
// writer changes them before the transaction ends.
func storedFolders(ctx context.Context, tx pgx.Tx, items []store.Item) (
	map[[2]string]string, error) {
	ids := map[string][]string{}
	for _, it := range items {
		ids[it.MailboxID] = append(ids[it.MailboxID], it.ID)
	}
	stored := make(map[[2]string]string, len(items))
	for mailbox, list := range ids {
		rows, err := tx.Query(ctx, `SELECT id, folder_id FROM messages
			WHERE mailbox_id = $1 AND id = ANY($2)`, mailbox, list)
		if err != nil {
			return nil, fmt.Errorf("put items: %w", err)
		}
		var id, folder string
		_, err = pgx.ForEachRow(rows, []any{&id, &folder}, func() error {
			stored[[2]string{mailbox, id}] = folder
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("put items: %w", err)
		}
	}
	return stored, nil
}

// LockMailbox locks or unlocks a mailbox's item writes. The UPDATE waits
// for the row lock that writes in progress hold until they commit.
func (db *DB) LockMailbox(ctx context.Context, mailboxID string, lease time.Duration) error {
	q, args := sqlstore.LockSQL(dialect, mailboxID, lease, false)
	tag, err := db.pool.Exec(ctx, q, args...)
	return oneRow(tag, err, "lock mailbox")
}

// RenewMailboxLock extends a lock that still holds.
func (db *DB) RenewMailboxLock(ctx context.Context, mailboxID string, lease time.Duration) (
	bool, error) {
	q, args := sqlstore.LockSQL(dialect, mailboxID, lease, true)
	tag, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("renew mailbox lock: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteMailbox removes a mailbox with its folders, items and change log.
func (db *DB) DeleteMailbox(ctx context.Context, mailboxID string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Lock the mailbox row first, so that a write in progress ends
		// before its rows are counted out.
		for _, q := range []string{
			`SELECT 1 FROM mailboxes WHERE id = $1 FOR UPDATE`,
			`DELETE FROM tombstones WHERE mailbox_id = $1`,
			`DELETE FROM messages WHERE mailbox_id = $1`,
			`DELETE FROM folders WHERE mailbox_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, mailboxID); err != nil {
				return fmt.Errorf("delete mailbox: %w", err)
			}
		}
		tag, err := tx.Exec(ctx, `DELETE FROM mailboxes WHERE id = $1`, mailboxID)
		return oneRow(tag, err, "delete mailbox")
	})
}
