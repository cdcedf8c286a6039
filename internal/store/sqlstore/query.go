package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// ErrUnknownColumn reports an ORDER BY column the schema does not have.
var ErrUnknownColumn = errors.New("unknown sort column")

// itemColumns are the columns a listed item is read from, in ScanItem's
// order.
const itemColumns = `mailbox_id, id, folder_id, change_key, doc`

// ListSQL returns the query listing the items q selects, in q's order and
// page, and its arguments; rows scan with ScanItem. An unknown order
// column is ErrUnknownColumn; a Where the dialect cannot rebind fails too.
func ListSQL(d Dialect, q store.Query) (string, []any, error) {
	order, err := OrderBy(d, q.OrderBy)
	if err != nil {
		return "", nil, err
	}
	where, args, err := Filter(d, q)
	if err != nil {
		return "", nil, fmt.Errorf("list items: %w", err)
	}
	limit := d.NoLimit
	if q.Top > 0 {
		limit = q.Top
	}
	n := len(args)
	query := `SELECT ` + itemColumns + ` FROM messages` + where + order +
		` LIMIT ` + d.Param(n+1) + ` OFFSET ` + d.Param(n+2)
	return query, append(args, limit, max(q.Skip, 0)), nil
}

// Filter builds the WHERE clause of q and its arguments. Ours come first,
// because their placeholders come first in the text; q.Args follow for
// q.Where's placeholders, rebound by the dialect when it must.
func Filter(d Dialect, q store.Query) (string, []any, error) {
	where := ` WHERE mailbox_id = ` + d.Param(1)
	args := []any{q.MailboxID}
	if q.FolderID != "" {
		where += ` AND folder_id = ` + d.Param(2)
		args = append(args, q.FolderID)
	}
	cond, sargs, err := searchCondition(d, q, len(args)+1)
	if err != nil {
		return "", nil, err
	}
	if cond != "" {
		where += ` AND ` + cond
		args = append(args, sargs...)
	}
	if strings.TrimSpace(q.Where) != "" {
		w := q.Where
		if d.Rebind != nil {
			var err error
			if w, err = d.Rebind(w, len(args)+1, len(q.Args)); err != nil {
				return "", nil, err
			}
		}
		where += ` AND (` + w + `)`
		args = append(args, q.Args...)
	}
	return where, args, nil
}

// OrderBy builds the ORDER BY clause. Every column must be a schema column
// name: no other text reaches the SQL. id is added as the last key, in the
// direction of the key before it, so that the order is total and paging
// with $skip is stable.
func OrderBy(d Dialect, keys []store.Order) (string, error) {
	var b strings.Builder
	b.WriteString(` ORDER BY `)
	desc := false
	for i, k := range keys {
		if !sortable[k.Column] {
			return "", fmt.Errorf("order by %q: %w", k.Column, ErrUnknownColumn)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k.Column + d.direction(k.Desc))
		desc = k.Desc
	}
	if n := len(keys); n > 0 && keys[n-1].Column == "id" {
		return b.String(), nil
	}
	if len(keys) > 0 {
		b.WriteString(", ")
	}
	b.WriteString("id" + d.direction(desc))
	return b.String(), nil
}

func (d Dialect) direction(desc bool) string {
	if desc {
		return d.Desc
	}
	return d.Asc
}
