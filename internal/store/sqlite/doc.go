// Package sqlite is the embedded mailbox database: store.Store in one
// SQLite file, through the pure-Go modernc.org/sqlite driver.
//
// The model. A file holds many mailboxes. Each message row keeps the
// item's Graph-canonical JSON document (the truth) and, beside it, the
// columns schema.Message derives from the document for $filter and
// $orderby, recomputed on every write. Folder counts are not stored; they
// are counted from indexes when a folder is read, so they cannot drift.
// The outbound table is the mail-flow queue for the other premises.
//
// Concurrency. The file is in WAL mode (https://www.sqlite.org/wal.html):
// any number of readers run beside one writer. The DB keeps a pool of
// query-only reader connections and a single writer connection whose
// transactions begin IMMEDIATE; writers of one process therefore queue in
// Go, and a writer in another process is waited for (busy_timeout), so
// writes do not fail with SQLITE_BUSY.
//
// The SQL this backend shares with package postgres (the messages layout,
// the WHERE and ORDER BY of a store.Query, row scanning) is package
// sqlstore, with SQLite's dialect in items.go.
//
// Schema changes are goose migrations embedded from migrations/. Migration
// 3, full-text search, is a Go migration (search.go): no
// migrations/00003_*.sql may exist.
//
// Full-text search (Query.Search) is an FTS5 table over the messages'
// search columns, kept by triggers (search.go).
//
// Reads return items without Cols (the document carries the same values)
// and without MIME (ItemMIME reads it), to keep list pages small.
package sqlite
