package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// dialect is SQLite's SQL: "?" placeholders, where NULLs already sort
// first ascending and last descending, and a negative LIMIT for none.
// Full-text search is FTS5 (search.go).
var dialect = sqlstore.Dialect{Desc: " DESC", False: "0", NoLimit: -1,
	NowMillis: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
	Search:    searchCondition}

var (
	insertSQL = sqlstore.InsertSQL(dialect)
	updateSQL = sqlstore.UpdateSQL(dialect)
)

// mimeArg binds MIME as a BLOB, or NULL when there is none.
func mimeArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// InsertItems adds items in one transaction, each with the next change
// number of its mailbox. A duplicate id is ErrConflict; a missing mailbox
// or folder is ErrNotFound; a locked mailbox is ErrMailboxLocked.
func (db *DB) InsertItems(ctx context.Context, items ...store.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		seqs, err := bumpAll(ctx, tx, items)
		if err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, insertSQL)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer stmt.Close()
		for i, it := range items {
			args, err := insertArgs(it, seqs[i])
			if err != nil {
				return err
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return storeError(err, "insert item")
			}
			if err := arrive(ctx, tx, it, true); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertArgs binds an item for insertSQL and upsertSQL.
func insertArgs(it store.Item, seq int64) ([]any, error) {
	cols, err := sqlstore.ColumnArgs(it)
	if err != nil {
		return nil, err
	}
	return append([]any{it.MailboxID, it.ID, it.FolderID, it.ChangeKey,
		string(it.Doc), mimeArg(it.MIME), seq}, cols...), nil
}

// UpdateItem replaces an item's folder, change key, document and columns,
// with the next change number of its mailbox; a move leaves a tombstone in
// the folder left. A nil it.MIME keeps the stored MIME. If ifChangeKey is
// not empty and differs from the stored change key it fails with
// ErrPreconditionFailed.
func (db *DB) UpdateItem(ctx context.Context, it store.Item, ifChangeKey string) error {
	cols, err := sqlstore.ColumnArgs(it)
	if err != nil {
		return err
	}
	return db.tx(ctx, func(tx *sql.Tx) error {
		seq, err := bump(ctx, tx, it.MailboxID, 1)
		if err != nil {
			return err
		}
		var from, key string
		err = tx.QueryRowContext(ctx, `SELECT folder_id, change_key FROM messages
			WHERE mailbox_id = ? AND id = ?`, it.MailboxID, it.ID).Scan(&from, &key)
		if err != nil {
			return notFound(err, "item")
		}
		if ifChangeKey != "" && ifChangeKey != key {
			return fmt.Errorf("item %s: %w", it.ID, store.ErrPreconditionFailed)
		}
		args := append([]any{it.FolderID, it.ChangeKey, string(it.Doc), mimeArg(it.MIME)},
			cols...)
		args = append(args, seq, it.MailboxID, it.ID, ifChangeKey, ifChangeKey)
		// The precondition was checked above, under the mailbox's write lock.
		if _, err := tx.ExecContext(ctx, updateSQL, args...); err != nil {
			return storeError(err, "update item")
		}
		return moved(ctx, tx, it, from, seq)
	})
}

// DeleteItem removes an item, leaving a tombstone in its folder, or fails
// with ErrNotFound.
func (db *DB) DeleteItem(ctx context.Context, mailboxID, id string) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		seq, err := bump(ctx, tx, mailboxID, 1)
		if err != nil {
			return err
		}
		var folder string
		err = tx.QueryRowContext(ctx, `DELETE FROM messages WHERE mailbox_id = ? AND id = ?
			RETURNING folder_id`, mailboxID, id).Scan(&folder)
		if err != nil {
			return notFound(err, "delete item")
		}
		_, err = tx.ExecContext(ctx, tombstoneSQL, mailboxID, id, folder, seq, true)
		if err != nil {
			return fmt.Errorf("delete item: %w", err)
		}
		return nil
	})
}

// oneRow checks that a statement changed a row: none is ErrNotFound.
func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// GetItem returns an item without its Cols and MIME (see ItemMIME).
func (db *DB) GetItem(ctx context.Context, mailboxID, id string) (store.Item, error) {
	it := store.Item{MailboxID: mailboxID, ID: id}
	err := db.queryReadRow(ctx,
		`SELECT folder_id, change_key, doc FROM messages WHERE mailbox_id = ? AND id = ?`,
		mailboxID, id).Scan(&it.FolderID, &it.ChangeKey, &it.Doc)
	if err != nil {
		return store.Item{}, notFound(err, "item")
	}
	return it, nil
}

// ItemMIME returns the stored MIME form of an item, or ErrNotFound when the
// item is missing or has none.
func (db *DB) ItemMIME(ctx context.Context, mailboxID, id string) ([]byte, error) {
	var b []byte
	err := db.queryReadRow(ctx,
		`SELECT mime FROM messages WHERE mailbox_id = ? AND id = ?`, mailboxID, id).Scan(&b)
	if err != nil {
		return nil, notFound(err, "item mime")
	}
	if b == nil {
		return nil, fmt.Errorf("item mime: %w", store.ErrNotFound)
	}
	return b, nil
}

// ListItems returns the items q selects, without Cols and MIME.
func (db *DB) ListItems(ctx context.Context, q store.Query) ([]store.Item, error) {
	query, args, err := sqlstore.ListSQL(dialect, q)
	if err != nil {
		return nil, err
	}
	rows, err := db.queryRead(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	return collect(rows, sqlstore.ScanItem)
}

// CountItems counts the items q's filter selects, ignoring its order and
// paging.
func (db *DB) CountItems(ctx context.Context, q store.Query) (int, error) {
	where, args, err := sqlstore.Filter(dialect, q)
	if err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	var n int
	if err := db.queryReadRow(ctx, `SELECT COUNT(*) FROM messages`+where, args...).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	return n, nil
}

// filter builds the WHERE clause of q, for tests of queries without
// Search: their Where is used as it is, so it cannot fail.
func filter(q store.Query) (string, []any) {
	where, args, _ := sqlstore.Filter(dialect, q)
	return where, args
}

// errUnknownColumn reports an ORDER BY column the schema does not have.
var errUnknownColumn = sqlstore.ErrUnknownColumn

// orderBy builds the ORDER BY clause (see sqlstore.OrderBy).
func orderBy(keys []store.Order) (string, error) {
	return sqlstore.OrderBy(dialect, keys)
}
