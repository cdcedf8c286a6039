package directory

import (
	"context"
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Query lists the users matching q.Where (a condition over the users
// columns, compiled from $filter against schema.User), in q.OrderBy and
// then object id order, after q.Skip, at most q.Top (0: no limit). The
// mailbox and folder fields of q do not apply to the directory.
func (d *Directory) Query(ctx context.Context, q store.Query) ([]User, error) {
	var b strings.Builder
	b.WriteString(`SELECT ` + userColumns + ` FROM users`)
	if q.Where != "" {
		b.WriteString(` WHERE ` + q.Where)
	}
	b.WriteString(` ORDER BY `)
	for _, o := range q.OrderBy {
		b.WriteString(o.Column)
		if o.Desc {
			b.WriteString(` DESC`)
		}
		b.WriteString(`, `)
	}
	b.WriteString(`object_id`)
	args := append([]any{}, q.Args...)
	if q.Top > 0 || q.Skip > 0 {
		top := q.Top
		if top <= 0 {
			top = -1 // SQLite: no limit
		}
		b.WriteString(` LIMIT ? OFFSET ?`)
		args = append(args, top, q.Skip)
	}
	rows, err := d.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("query users: %w", err)
	}
	defer rows.Close()
	var users []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("query users: %w", err)
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// Count counts the users matching q.Where, whatever q's page: Graph's
// @odata.count of a users query.
func (d *Directory) Count(ctx context.Context, q store.Query) (int, error) {
	query := `SELECT count(*) FROM users`
	if q.Where != "" {
		query += ` WHERE ` + q.Where
	}
	var n int
	if err := d.db.QueryRowContext(ctx, query, q.Args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
