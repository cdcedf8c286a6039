package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// MaxCachedStatements bounds the prepared read statements kept per
// database. Query texts repeat (a list with the same options is the same
// text), and SQLite's parse and plan cost as much as a short query.
const MaxCachedStatements = 512

// stmtCache holds prepared statements of the read pool by query text.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// get returns the prepared statement for query, preparing it on first use.
// Past MaxCachedStatements it returns nil, and the caller queries without
// one: evicting a statement another goroutine is about to use would fail
// that query.
func (c *stmtCache) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	if len(c.stmts) >= MaxCachedStatements {
		return nil, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if c.stmts == nil {
		c.stmts = make(map[string]*sql.Stmt)
	}
	c.stmts[query] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}

// queryRead runs a read query through the statement cache.
func (db *DB) queryRead(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.stmts.get(ctx, db.read, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.read.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryReadRow is queryRead for one row. A failure to prepare surfaces from
// Scan, as with sql.DB.QueryRowContext.
func (db *DB) queryReadRow(ctx context.Context, query string, args ...any) rowScanner {
	st, err := db.stmts.get(ctx, db.read, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
