package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas apply to every pooled connection, because the driver runs them
// on each new connection. WAL lets readers go on while one writer writes;
// busy_timeout makes a second process wait for the write lock instead of
// failing at once (https://www.sqlite.org/wal.html,
// https://www.sqlite.org/pragma.html#pragma_busy_timeout).
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)" +
	"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

var uriPath = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

// DB is one mailbox database in a SQLite file. It implements store.Store.
type DB struct {
	// write has a single connection: writers of this process queue in Go
	// rather than in SQLite. Its transactions begin IMMEDIATE, so that a
	// writer in another process makes us wait (busy_timeout) at BEGIN
	// instead of failing with SQLITE_BUSY when a read lock is upgraded.
	write *sql.DB
	// read serves queries; in WAL mode they never wait for the writer.
	read *sql.DB
	// stmts caches the read pool's prepared statements.
	stmts stmtCache
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the mailbox database at path and brings
// its schema up to date.
func Open(path string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	// A "file:" name is a URI to SQLite (https://www.sqlite.org/uri.html),
	// which decodes %HH in the path; escape what would end the path.
	dsn := "file:" + uriPath.Replace(path) + "?" + pragmas
	if err := migrate(dsn); err != nil {
		return nil, err
	}

	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)

	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &DB{write: write, read: read}, nil
}

// migrate applies the embedded migrations over a connection of its own,
// so that goose's bookkeeping cannot wait on the single writer.
func migrate(dsn string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open for migration: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub,
		goose.WithGoMigrations(searchMigration))
	if err != nil {
		return fmt.Errorf("migration provider: %w", err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	db.stmts.close()
	return errors.Join(db.read.Close(), db.write.Close())
}

// tx runs fn in a write transaction and commits it when fn succeeds.
func (db *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// SQLite result codes (https://www.sqlite.org/rescode.html). The driver
// reports extended codes; the primary code is the low byte.
const (
	codeConstraint   = 19
	codeConstraintFK = 787 // SQLITE_CONSTRAINT_FOREIGNKEY
)

// storeError maps constraint failures onto the store's sentinel errors: a
// missing parent (mailbox or folder) is ErrNotFound, a duplicate key is
// ErrConflict.
func storeError(err error, what string) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch {
		case se.Code() == codeConstraintFK:
			return fmt.Errorf("%s: %w: %v", what, store.ErrNotFound, err)
		case se.Code()&0xff == codeConstraint:
			return fmt.Errorf("%s: %w: %v", what, store.ErrConflict, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notFound turns sql.ErrNoRows into store.ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
