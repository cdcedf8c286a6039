package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/pressly/goose/v3"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// Full-text search is a tsvector per indexed field, generated from the
// message's search column (package sqlstore, search.go) with the 'simple'
// configuration, and one GIN index over all of them
// (https://www.postgresql.org/docs/15/textsearch-tables.html). A term
// over several fields is an OR of one @@ per field, which the planner
// answers with a BitmapOr of scans of that one index.
//
// The words in the search columns are already split and folded by
// store.SearchWords, so the parser and the 'simple' dictionary only split
// at the spaces; a query's words are passed as tsquery text in which each
// word is quoted. One tsvector per field, rather than one weighted vector,
// keeps a phrase inside one field and tells to, cc and bcc apart (a
// tsvector has only four weights).

// tsvColumn names the generated tsvector column of a field.
func tsvColumn(field string) string { return "tsv_" + field }

// searchMigration is migration 3: it adds the search columns, fills them
// for the messages already stored (the derivation needs Go: an HTML body is
// indexed as its text), then adds the tsvector columns, computed for every
// row, and their index.
var searchMigration = goose.NewGoMigration(3,
	&goose.GoFunc{RunTx: upSearch}, &goose.GoFunc{RunTx: downSearch})

func upSearch(ctx context.Context, tx *sql.Tx) error {
	var adds, tsvs []string
	for _, f := range store.SearchFields {
		adds = append(adds, `ADD COLUMN `+sqlstore.SearchColumn(f)+` text`)
	}
	if _, err := tx.ExecContext(ctx,
		`ALTER TABLE messages `+strings.Join(adds, ", ")); err != nil {
		return fmt.Errorf("add search columns: %w", err)
	}
	if err := sqlstore.BackfillSearch(ctx, tx, dialect); err != nil {
		return err
	}
	adds = adds[:0]
	for _, f := range store.SearchFields {
		adds = append(adds, `ADD COLUMN `+tsvColumn(f)+` tsvector GENERATED ALWAYS AS `+
			`(to_tsvector('simple', coalesce(`+sqlstore.SearchColumn(f)+`, ''))) STORED`)
		tsvs = append(tsvs, tsvColumn(f))
	}
	for _, stmt := range []string{
		`ALTER TABLE messages ` + strings.Join(adds, ", "),
		`CREATE INDEX messages_search ON messages USING gin (` + strings.Join(tsvs, ", ") + `)`,
		// Search results come newest sent first (Graph).
		`CREATE INDEX messages_sent ON messages
			(mailbox_id, sent DESC NULLS LAST, id DESC NULLS LAST)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

func downSearch(ctx context.Context, tx *sql.Tx) error {
	var drops []string
	for _, f := range store.SearchFields {
		drops = append(drops, `DROP COLUMN `+tsvColumn(f), `DROP COLUMN `+sqlstore.SearchColumn(f))
	}
	// Dropping the columns drops the index on them.
	for _, stmt := range []string{`DROP INDEX messages_sent`,
		`ALTER TABLE messages ` + strings.Join(drops, ", ")} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("drop search index: %w", err)
		}
	}
	return nil
}

// searchCondition is the dialect's Search: e as a boolean SQL expression of
// tsvector matches, one numbered parameter per term.
func searchCondition(e *store.SearchExpr, first int) (string, []any) {
	var args []any
	cond := tsCondition(e, func(q string) string {
		args = append(args, q)
		return "$" + strconv.Itoa(first+len(args)-1)
	})
	return cond, args
}

// tsCondition writes e as SQL; param binds a tsquery text and returns its
// placeholder. The tsvector columns are never NULL, so NOT is the exact
// complement of a match, as in FTS5.
func tsCondition(e *store.SearchExpr, param func(string) string) string {
	switch e.Op {
	case store.SearchTerm:
		p := param(tsQuery(e))
		parts := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			parts[i] = tsvColumn(f) + ` @@ ` + p + `::tsquery`
		}
		return "(" + strings.Join(parts, " OR ") + ")"
	case store.SearchNot:
		return "NOT " + tsCondition(e.Args[0], param)
	}
	op := " AND "
	if e.Op == store.SearchOr {
		op = " OR "
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = tsCondition(a, param)
	}
	return "(" + strings.Join(parts, op) + ")"
}

// tsQuery is a term's words as tsquery text: quoted lexemes followed one by
// one (<->), the last a prefix (:*) when the term is
// (https://www.postgresql.org/docs/15/datatype-textsearch.html#DATATYPE-TSQUERY).
func tsQuery(e *store.SearchExpr) string {
	lex := make([]string, len(e.Words))
	for i, w := range e.Words {
		lex[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
	}
	if e.Prefix {
		lex[len(lex)-1] += ":*"
	}
	return strings.Join(lex, " <-> ")
}
