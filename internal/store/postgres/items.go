package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// dialect is PostgreSQL's SQL: numbered placeholders, NULLs placed as
// SQLite places them (first ascending, last descending) and as the ordered
// indexes are declared, citext read back as text, and a NULL LIMIT for
// none.
var dialect = sqlstore.Dialect{
	Numbered:  true,
	Asc:       " ASC NULLS FIRST",
	Desc:      " DESC NULLS LAST",
	Text:      "::text",
	False:     "false",
	NowMillis: "(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
	Rebind:    rebindWhere,
	Search:    searchCondition, // tsvector and GIN (search.go)
}

var (
	insertSQL = sqlstore.InsertSQL(dialect)
	updateSQL = sqlstore.UpdateSQL(dialect)
)

// InsertItems adds items in one transaction, each with the next change
// number of its mailbox, sent as one batch after the numbers are taken. A
// duplicate id is ErrConflict; a missing mailbox or folder is
// ErrNotFound; a locked mailbox is ErrMailboxLocked.
func (db *DB) InsertItems(ctx context.Context, items ...store.Item) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		seqs, err := bumpAll(ctx, tx, items)
		if err != nil {
			return err
		}
		var batch pgx.Batch
		for i, it := range items {
			args, err := insertArgs(it, seqs[i])
			if err != nil {
				return err
			}
			batch.Queue(insertSQL, args...)
			queueArrive(&batch, it, true)
		}
		return tx.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return storeError(err, "insert items")
	}
	return nil
}

// insertArgs binds an item for insertSQL and upsertSQL.
func insertArgs(it store.Item, seq int64) ([]any, error) {
	cols, err := sqlstore.ColumnArgs(it)
	if err != nil {
		return nil, err
	}
	return append([]any{it.MailboxID, it.ID, it.FolderID, it.ChangeKey,
		string(it.Doc), it.MIME, seq}, cols...), nil
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
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		seq, err := bump(ctx, tx, it.MailboxID, 1)
		if err != nil {
			return err
		}
		// The mailbox row lock taken by bump orders this against every
		// other write of the mailbox, so what is read here stays true.
		var from, key string
		err = tx.QueryRow(ctx, `SELECT folder_id, change_key FROM messages
			WHERE mailbox_id = $1 AND id = $2`, it.MailboxID, it.ID).Scan(&from, &key)
		if err != nil {
			return notFound(err, "item")
		}
		if ifChangeKey != "" && ifChangeKey != key {
			return fmt.Errorf("item %s: %w", it.ID, store.ErrPreconditionFailed)
		}
		args := append([]any{it.FolderID, it.ChangeKey, string(it.Doc), it.MIME}, cols...)
		args = append(args, seq, it.MailboxID, it.ID, ifChangeKey)
		var batch pgx.Batch
		batch.Queue(updateSQL, args...)
		queueMoved(&batch, it, from, seq)
		return tx.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return storeError(err, "update item")
	}
	return nil
}

// DeleteItem removes an item, leaving a tombstone in its folder, or fails
// with ErrNotFound.
func (db *DB) DeleteItem(ctx context.Context, mailboxID, id string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		seq, err := bump(ctx, tx, mailboxID, 1)
		if err != nil {
			return err
		}
		var folder string
		err = tx.QueryRow(ctx, `DELETE FROM messages WHERE mailbox_id = $1 AND id = $2
			RETURNING folder_id`, mailboxID, id).Scan(&folder)
		if err != nil {
			return notFound(err, "delete item")
		}
		if _, err := tx.Exec(ctx, tombstoneSQL, mailboxID, id, folder, seq, true); err != nil {
			return fmt.Errorf("delete item: %w", err)
		}
		return nil
	})
}

// GetItem returns an item without its Cols and MIME (see ItemMIME).
func (db *DB) GetItem(ctx context.Context, mailboxID, id string) (store.Item, error) {
	it := store.Item{MailboxID: mailboxID, ID: id}
	err := db.pool.QueryRow(ctx,
		`SELECT folder_id, change_key, doc FROM messages WHERE mailbox_id = $1 AND id = $2`,
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
	err := db.pool.QueryRow(ctx,
		`SELECT mime FROM messages WHERE mailbox_id = $1 AND id = $2`, mailboxID, id).Scan(&b)
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
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return collect(rows, sqlstore.ScanItem, "list items")
}

// CountItems counts the items q's filter selects, ignoring its order and
// paging.
func (db *DB) CountItems(ctx context.Context, q store.Query) (int, error) {
	where, args, err := filter(q)
	if err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM messages`+where, args...).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	return n, nil
}

// filter builds the WHERE clause of q with numbered placeholders: ours
// first, then q.Where's "?" placeholders renumbered after them.
func filter(q store.Query) (string, []any, error) {
	return sqlstore.Filter(dialect, q)
}

// rebindWhere numbers the "?" placeholders of a Query.Where from first.
// Their number must match the query's nargs arguments.
func rebindWhere(where string, first, nargs int) (string, error) {
	w, n, err := rebind(where, first)
	if err != nil {
		return "", err
	}
	if n != nargs {
		return "", fmt.Errorf("%w: %d placeholders for %d arguments", errRebind, n, nargs)
	}
	return w, nil
}

// errUnknownColumn reports an ORDER BY column the schema does not have.
var errUnknownColumn = sqlstore.ErrUnknownColumn

// orderBy builds the ORDER BY clause (see sqlstore.OrderBy).
func orderBy(keys []store.Order) (string, error) {
	return sqlstore.OrderBy(dialect, keys)
}
