package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// Full-text search is an FTS5 table with external content
// (https://www.sqlite.org/fts5.html#external_content_tables): it indexes
// the search columns of messages (package sqlstore, search.go) by rowid
// and stores no copy of them. Triggers keep it in step with every insert,
// update and delete, in the writer's transaction.
//
// The words in those columns are already split and folded by
// store.SearchWords, so the unicode61 tokenizer only splits at the
// spaces. A query is an FTS5 MATCH expression in which every word is
// quoted: no user text is read as FTS5 syntax.
//
// TODO: VACUUM may renumber the rowids of messages (it has no INTEGER
// PRIMARY KEY), which would leave the index pointing at the wrong rows;
// after a VACUUM, run INSERT INTO messages_fts(messages_fts)
// VALUES('rebuild'). Nothing here runs VACUUM.

// searchMigration is migration 3: it adds the search columns, fills them
// for the messages already stored (the derivation needs Go: an HTML body is
// indexed as its text), then builds the index and its triggers.
var searchMigration = goose.NewGoMigration(3,
	&goose.GoFunc{RunTx: upSearch}, &goose.GoFunc{RunTx: downSearch})

func upSearch(ctx context.Context, tx *sql.Tx) error {
	cols := sqlstore.SearchColumns()
	for _, c := range cols {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE messages ADD COLUMN `+c+` TEXT`); err != nil {
			return fmt.Errorf("add %s: %w", c, err)
		}
	}
	if err := sqlstore.BackfillSearch(ctx, tx, dialect); err != nil {
		return err
	}
	list := strings.Join(cols, ", ")
	oldVals := "old." + strings.Join(cols, ", old.")
	newVals := "new." + strings.Join(cols, ", new.")
	// An update that leaves the words alone (a flag, a move) leaves the
	// index alone.
	changed := make([]string, len(cols))
	for i, c := range cols {
		changed[i] = "old." + c + " IS NOT new." + c
	}
	for _, stmt := range []string{
		`CREATE VIRTUAL TABLE messages_fts USING fts5(` + list +
			`, content='messages', tokenize='unicode61')`,
		`INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`,
		// Search results come newest sent first (Graph): with this index a
		// query matching many messages reads them in that order and stops
		// at the page, instead of sorting them all.
		`CREATE INDEX messages_sent ON messages (mailbox_id, sent DESC, id DESC)`,
		`CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
			INSERT INTO messages_fts (rowid, ` + list + `) VALUES (new.rowid, ` + newVals + `);
		END`,
		`CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, ` + list + `)
			VALUES ('delete', old.rowid, ` + oldVals + `);
		END`,
		`CREATE TRIGGER messages_fts_update AFTER UPDATE OF ` + list + ` ON messages
		WHEN ` + strings.Join(changed, " OR ") + ` BEGIN
			INSERT INTO messages_fts (messages_fts, rowid, ` + list + `)
			VALUES ('delete', old.rowid, ` + oldVals + `);
			INSERT INTO messages_fts (rowid, ` + list + `) VALUES (new.rowid, ` + newVals + `);
		END`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

func downSearch(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		`DROP TRIGGER messages_fts_update`, `DROP TRIGGER messages_fts_delete`,
		`DROP TRIGGER messages_fts_insert`, `DROP TABLE messages_fts`, `DROP INDEX messages_sent`,
	}
	for _, c := range sqlstore.SearchColumns() {
		stmts = append(stmts, `ALTER TABLE messages DROP COLUMN `+c)
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop search index: %w", err)
		}
	}
	return nil
}

// searchCondition is the dialect's Search: the rowids FTS5 matches.
func searchCondition(e *store.SearchExpr, _ int) (string, []any) {
	return `rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)`,
		[]any{ftsMatch(e)}
}

// ftsMatch writes e as an FTS5 query (https://www.sqlite.org/fts5.html,
// section 3). A term is a column filter on a quoted phrase, with "*" for a
// prefix. FTS5's NOT is binary ("a NOT b"), so an AND group is written as
// its positive terms, then NOT the OR of its negated ones; every group
// has a positive term (store.ParseSearch checks it).
func ftsMatch(e *store.SearchExpr) string {
	switch e.Op {
	case store.SearchTerm:
		cols := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			cols[i] = sqlstore.SearchColumn(f)
		}
		s := `{` + strings.Join(cols, " ") + `} : "` + strings.Join(e.Words, " ") + `"`
		if e.Prefix {
			s += ` *`
		}
		return s
	case store.SearchOr:
		return "(" + joinMatch(e.Args, " OR ") + ")"
	case store.SearchNot:
		return ftsMatch(e.Args[0]) // only reached through an AND group
	}
	var pos, neg []*store.SearchExpr
	for _, a := range e.Args {
		if a.Op == store.SearchNot {
			neg = append(neg, a.Args[0])
		} else {
			pos = append(pos, a)
		}
	}
	s := "(" + joinMatch(pos, " AND ") + ")"
	if len(neg) > 0 {
		s = "(" + s + " NOT (" + joinMatch(neg, " OR ") + "))"
	}
	return s
}

func joinMatch(es []*store.SearchExpr, op string) string {
	parts := make([]string, len(es))
	for i, a := range es {
		parts[i] = ftsMatch(a)
	}
	return strings.Join(parts, op)
}
