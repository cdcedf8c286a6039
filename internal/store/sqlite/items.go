package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// The messages table has fixed columns (mailbox_id, id, folder_id,
// change_key, doc, mime) and one column per schema.Message column. The
// schema's id and folder_id columns are the fixed ones, taken from Item.ID
// and Item.FolderID.
var (
	// derived lists the schema columns stored from Item.Cols, with their
	// index in schema.Message.Columns.
	derived []derivedColumn
	// sortable holds every schema column name $orderby may produce.
	sortable = map[string]bool{}

	insertSQL string
	updateSQL string
)

type derivedColumn struct {
	name  string
	index int
}

func init() {
	var names, sets []string
	for i, c := range schema.Message.Columns {
		sortable[c.Name] = true
		if c.Name == "id" || c.Name == "folder_id" {
			continue
		}
		derived = append(derived, derivedColumn{c.Name, i})
		names = append(names, c.Name)
		sets = append(sets, c.Name+" = ?")
	}
	marks := strings.Repeat(", ?", len(names))
	insertSQL = `INSERT INTO messages (mailbox_id, id, folder_id, change_key, doc, mime, ` +
		strings.Join(names, ", ") + `) VALUES (?, ?, ?, ?, ?, ?` + marks + `)`
	updateSQL = `UPDATE messages SET folder_id = ?, change_key = ?, doc = ?,
		mime = COALESCE(?, mime), ` + strings.Join(sets, ", ") + `
		WHERE mailbox_id = ? AND id = ? AND (? = '' OR change_key = ?)`
}

// columnArgs returns the derived column values of it, computing them from
// the document when the caller did not.
func columnArgs(it store.Item) ([]any, error) {
	cols := it.Cols
	if len(cols) != len(schema.Message.Columns) {
		var err error
		if cols, err = schema.Message.ColumnValues(it.Doc); err != nil {
			return nil, fmt.Errorf("item %s: %w", it.ID, err)
		}
	}
	out := make([]any, len(derived))
	for i, d := range derived {
		out[i] = cols[d.index]
	}
	return out, nil
}

// mimeArg binds MIME as a BLOB, or NULL when there is none.
func mimeArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// InsertItems adds items in one transaction. A duplicate id is
// ErrConflict; a missing mailbox or folder is ErrNotFound.
func (db *DB) InsertItems(ctx context.Context, items ...store.Item) error {
	return db.tx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertSQL)
		if err != nil {
			return fmt.Errorf("prepare insert: %w", err)
		}
		defer stmt.Close()
		for _, it := range items {
			cols, err := columnArgs(it)
			if err != nil {
				return err
			}
			args := append([]any{it.MailboxID, it.ID, it.FolderID, it.ChangeKey,
				string(it.Doc), mimeArg(it.MIME)}, cols...)
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return storeError(err, "insert item")
			}
		}
		return nil
	})
}

// UpdateItem replaces an item's folder, change key, document and columns.
// A nil it.MIME keeps the stored MIME. If ifChangeKey is not empty and
// differs from the stored change key it fails with ErrPreconditionFailed.
func (db *DB) UpdateItem(ctx context.Context, it store.Item, ifChangeKey string) error {
	cols, err := columnArgs(it)
	if err != nil {
		return err
	}
	args := append([]any{it.FolderID, it.ChangeKey, string(it.Doc), mimeArg(it.MIME)}, cols...)
	args = append(args, it.MailboxID, it.ID, ifChangeKey, ifChangeKey)
	return db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, updateSQL, args...)
		if err != nil {
			return storeError(err, "update item")
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		// Nothing changed: tell a missing item from a stale change key.
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE mailbox_id = ? AND id = ?`,
			it.MailboxID, it.ID).Scan(&one)
		if err != nil {
			return notFound(err, "item")
		}
		return fmt.Errorf("item %s: %w", it.ID, store.ErrPreconditionFailed)
	})
}

// DeleteItem removes an item, or fails with ErrNotFound.
func (db *DB) DeleteItem(ctx context.Context, mailboxID, id string) error {
	res, err := db.write.ExecContext(ctx,
		`DELETE FROM messages WHERE mailbox_id = ? AND id = ?`, mailboxID, id)
	return oneRow(res, err, "delete item")
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
	where, args := filter(q)
	order, err := orderBy(q.OrderBy)
	if err != nil {
		return nil, err
	}
	query := `SELECT mailbox_id, id, folder_id, change_key, doc FROM messages` + where +
		order + ` LIMIT ? OFFSET ?`
	limit := -1 // SQLite: a negative LIMIT means none
	if q.Top > 0 {
		limit = q.Top
	}
	args = append(args, limit, max(q.Skip, 0))

	rows, err := db.queryRead(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	return collect(rows, func(r scanner) (store.Item, error) {
		var it store.Item
		err := r.Scan(&it.MailboxID, &it.ID, &it.FolderID, &it.ChangeKey, &it.Doc)
		return it, err
	})
}

// CountItems counts the items q's filter selects, ignoring its order and
// paging.
func (db *DB) CountItems(ctx context.Context, q store.Query) (int, error) {
	where, args := filter(q)
	var n int
	if err := db.queryReadRow(ctx, `SELECT COUNT(*) FROM messages`+where, args...).
		Scan(&n); err != nil {
		return 0, fmt.Errorf("count items: %w", err)
	}
	return n, nil
}

// filter builds the WHERE clause of q. Our own arguments come first,
// because their placeholders come first in the text; q.Args follow for
// q.Where's placeholders.
func filter(q store.Query) (string, []any) {
	where := ` WHERE mailbox_id = ?`
	args := []any{q.MailboxID}
	if q.FolderID != "" {
		where += ` AND folder_id = ?`
		args = append(args, q.FolderID)
	}
	if strings.TrimSpace(q.Where) != "" {
		where += ` AND (` + q.Where + `)`
		args = append(args, q.Args...)
	}
	return where, args
}

// errUnknownColumn reports an ORDER BY column the schema does not have.
var errUnknownColumn = errors.New("unknown sort column")

// orderBy builds the ORDER BY clause. Every column must be a schema column
// name: no other text reaches the SQL. id is added as the last key, in the
// direction of the key before it, so that the order is total and paging
// with $skip is stable.
func orderBy(keys []store.Order) (string, error) {
	var b strings.Builder
	b.WriteString(` ORDER BY `)
	desc := false
	for i, k := range keys {
		if !sortable[k.Column] {
			return "", fmt.Errorf("order by %q: %w", k.Column, errUnknownColumn)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k.Column)
		if k.Desc {
			b.WriteString(" DESC")
		}
		desc = k.Desc
	}
	if n := len(keys); n > 0 && keys[n-1].Column == "id" {
		return b.String(), nil
	}
	if len(keys) > 0 {
		b.WriteString(", ")
	}
	b.WriteString("id")
	if desc {
		b.WriteString(" DESC")
	}
	return b.String(), nil
}
