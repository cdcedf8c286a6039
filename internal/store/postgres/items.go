package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

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
	var names, marks, sets []string
	for i, c := range schema.Message.Columns {
		sortable[c.Name] = true
		if c.Name == "id" || c.Name == "folder_id" {
			continue
		}
		derived = append(derived, derivedColumn{c.Name, i})
		names = append(names, c.Name)
		marks = append(marks, "$"+strconv.Itoa(len(marks)+7))
		sets = append(sets, c.Name+" = $"+strconv.Itoa(len(sets)+5))
	}
	insertSQL = `INSERT INTO messages (mailbox_id, id, folder_id, change_key, doc, mime, ` +
		strings.Join(names, ", ") + `) VALUES ($1, $2, $3, $4, $5, $6, ` +
		strings.Join(marks, ", ") + `)`
	n := len(sets) + 5
	updateSQL = `UPDATE messages SET folder_id = $1, change_key = $2, doc = $3,
		mime = COALESCE($4, mime), ` + strings.Join(sets, ", ") + fmt.Sprintf(`
		WHERE mailbox_id = $%d AND id = $%d AND ($%d = '' OR change_key = $%d)`,
		n, n+1, n+2, n+2)
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

// InsertItems adds items in one transaction, sent as one batch. A
// duplicate id is ErrConflict; a missing mailbox or folder is ErrNotFound.
func (db *DB) InsertItems(ctx context.Context, items ...store.Item) error {
	var batch pgx.Batch
	for _, it := range items {
		cols, err := columnArgs(it)
		if err != nil {
			return err
		}
		args := append([]any{it.MailboxID, it.ID, it.FolderID, it.ChangeKey,
			string(it.Doc), it.MIME}, cols...)
		batch.Queue(insertSQL, args...)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		return storeError(err, "insert items")
	}
	return nil
}

// UpdateItem replaces an item's folder, change key, document and columns.
// A nil it.MIME keeps the stored MIME. If ifChangeKey is not empty and
// differs from the stored change key it fails with ErrPreconditionFailed.
func (db *DB) UpdateItem(ctx context.Context, it store.Item, ifChangeKey string) error {
	cols, err := columnArgs(it)
	if err != nil {
		return err
	}
	args := append([]any{it.FolderID, it.ChangeKey, string(it.Doc), it.MIME}, cols...)
	args = append(args, it.MailboxID, it.ID, ifChangeKey)
	tag, err := db.pool.Exec(ctx, updateSQL, args...)
	if err != nil {
		return storeError(err, "update item")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Nothing changed: tell a missing item from a stale change key.
	var one int
	err = db.pool.QueryRow(ctx, `SELECT 1 FROM messages WHERE mailbox_id = $1 AND id = $2`,
		it.MailboxID, it.ID).Scan(&one)
	if err != nil {
		return notFound(err, "item")
	}
	return fmt.Errorf("item %s: %w", it.ID, store.ErrPreconditionFailed)
}

// DeleteItem removes an item, or fails with ErrNotFound.
func (db *DB) DeleteItem(ctx context.Context, mailboxID, id string) error {
	tag, err := db.pool.Exec(ctx,
		`DELETE FROM messages WHERE mailbox_id = $1 AND id = $2`, mailboxID, id)
	return oneRow(tag, err, "delete item")
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
	order, err := orderBy(q.OrderBy)
	if err != nil {
		return nil, err
	}
	var limit any // NULL: no limit
	if q.Top > 0 {
		limit = q.Top
	}
	where, args, err := filter(q)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	n := len(args)
	query := `SELECT mailbox_id, id, folder_id, change_key, doc FROM messages` + where +
		order + ` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2)
	args = append(args, limit, max(q.Skip, 0))

	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Item, error) {
		var it store.Item
		err := r.Scan(&it.MailboxID, &it.ID, &it.FolderID, &it.ChangeKey, &it.Doc)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return items, nil
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
// first, then q.Where's "?" placeholders renumbered after them. The
// number of placeholders in q.Where must match q.Args.
func filter(q store.Query) (string, []any, error) {
	where := ` WHERE mailbox_id = $1`
	args := []any{q.MailboxID}
	if q.FolderID != "" {
		where += ` AND folder_id = $2`
		args = append(args, q.FolderID)
	}
	if strings.TrimSpace(q.Where) != "" {
		w, n, err := rebind(q.Where, len(args)+1)
		if err != nil {
			return "", nil, err
		}
		if n != len(q.Args) {
			return "", nil, fmt.Errorf("%w: %d placeholders for %d arguments",
				errRebind, n, len(q.Args))
		}
		where += ` AND (` + w + `)`
		args = append(args, q.Args...)
	}
	return where, args, nil
}

// errUnknownColumn reports an ORDER BY column the schema does not have.
var errUnknownColumn = errors.New("unknown sort column")

// orderBy builds the ORDER BY clause. Every column must be a schema column
// name: no other text reaches the SQL. id is added as the last key, in the
// direction of the key before it, so that the order is total and paging
// with $skip is stable. NULLs come first ascending and last descending, as
// in SQLite, and as the ordered indexes are declared.
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
		b.WriteString(k.Column + direction(k.Desc))
		desc = k.Desc
	}
	if n := len(keys); n > 0 && keys[n-1].Column == "id" {
		return b.String(), nil
	}
	if len(keys) > 0 {
		b.WriteString(", ")
	}
	b.WriteString("id" + direction(desc))
	return b.String(), nil
}

func direction(desc bool) string {
	if desc {
		return " DESC NULLS LAST"
	}
	return " ASC NULLS FIRST"
}
