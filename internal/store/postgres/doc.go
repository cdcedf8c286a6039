// Package postgres is the scale-out mailbox database: store.Store in a
// PostgreSQL database, through github.com/jackc/pgx/v5, so that several
// gateway processes can serve the same mailboxes.
//
// The model is the SQLite backend's (package sqlite): a database holds
// many mailboxes; a message row keeps the item's Graph-canonical JSON
// document (the truth) and beside it the columns schema.Message derives
// from it for $filter and $orderby, recomputed on every write; folder
// counts are counted from indexes when a folder is read; the outbound
// table is the mail-flow queue for the other premises. Both backends pass
// the same suite (package storetest) and give the same answers, including
// case-insensitive text (see migrations/) and where NULLs sort.
//
// Queries. The store's Query.Where comes from package odata with "?"
// placeholders; rebind numbers them $1…$n outside quoted text, and
// refuses text it cannot number safely. Every filter and sort runs in SQL,
// built by package sqlstore, which both backends share, in PostgreSQL's
// dialect (items.go).
// The pool (pgxpool) prepares and caches each statement text per
// connection, so repeated list queries are planned once.
//
// Concurrency. Writes are short transactions at READ COMMITTED. Every
// item write first advances its mailbox's change counter (the change log,
// sqlstore's changes.go), and the row lock of that UPDATE orders the
// writers of a mailbox until they commit: change numbers appear in commit
// order, a locked mailbox refuses the write there, and of two racing
// updates with the same change key exactly one wins. Due
// claims the messages it returns (FOR UPDATE SKIP LOCKED and a lease
// column), so two processes never deliver the same message at once.
//
// Schema changes are goose migrations embedded from migrations/, applied
// by Open under goose's PostgreSQL session lock so that gateways starting
// together migrate once. Migration 3, full-text search, is a Go migration
// (search.go): no migrations/00003_*.sql may exist.
//
// Full-text search (Query.Search) is a generated tsvector per indexed field
// under one GIN index (search.go).
package postgres
