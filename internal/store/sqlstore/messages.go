package sqlstore

import (
	"fmt"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// fixed is the number of fixed columns an insert binds before the derived
// ones: mailbox_id, id, folder_id, change_key, doc, mime, change_seq.
const fixed = 7

var (
	// derived lists the schema columns stored from Item.Cols, with their
	// index in schema.Message.Columns, then the search columns (search.go),
	// with index -1, derived from Item.Doc.
	derived []derivedColumn
	// sortable holds every schema column name $orderby may produce.
	sortable = map[string]bool{}
)

type derivedColumn struct {
	name  string
	index int
}

func init() {
	for i, c := range schema.Message.Columns {
		sortable[c.Name] = true
		if c.Name == "id" || c.Name == "folder_id" {
			continue
		}
		derived = append(derived, derivedColumn{c.Name, i})
	}
	for _, c := range searchColumns {
		derived = append(derived, derivedColumn{c, -1})
	}
}

// InsertSQL is the statement adding one message. Its arguments are
// mailbox id, id, folder id, change key, doc, mime and change number,
// then ColumnArgs.
func InsertSQL(d Dialect) string {
	names := make([]string, 0, len(derived))
	marks := make([]string, 0, fixed+len(derived))
	for _, c := range derived {
		names = append(names, c.name)
	}
	for n := 1; n <= fixed+len(derived); n++ {
		marks = append(marks, d.Param(n))
	}
	return `INSERT INTO messages (mailbox_id, id, folder_id, change_key, doc, mime, change_seq, ` +
		strings.Join(names, ", ") + `) VALUES (` + strings.Join(marks, ", ") + `)`
}

// UpdateSQL is the statement replacing one message. Its arguments are
// folder id, change key, doc and mime (NULL keeps the stored MIME), then
// ColumnArgs, then the change number, then mailbox id, id and the
// expected change key ("" for any). That last one is bound twice with "?"
// placeholders and once with numbered ones.
func UpdateSQL(d Dialect) string {
	sets := make([]string, len(derived))
	for i, c := range derived {
		sets[i] = c.name + " = " + d.Param(i+5)
	}
	n := len(derived) + 6
	return `UPDATE messages SET folder_id = ` + d.Param(1) + `, change_key = ` + d.Param(2) +
		`, doc = ` + d.Param(3) + `,
		mime = COALESCE(` + d.Param(4) + `, mime), ` + strings.Join(sets, ", ") +
		`, change_seq = ` + d.Param(n-1) + `
		WHERE mailbox_id = ` + d.Param(n) + ` AND id = ` + d.Param(n+1) + ` AND (` +
		d.Param(n+2) + ` = '' OR change_key = ` + d.Param(n+2) + `)`
}

// ColumnArgs returns the derived column values of it, in the order of
// InsertSQL and UpdateSQL, computing them from the document when the
// caller did not.
func ColumnArgs(it store.Item) ([]any, error) {
	cols := it.Cols
	if len(cols) != len(schema.Message.Columns) {
		var err error
		if cols, err = schema.Message.ColumnValues(it.Doc); err != nil {
			return nil, fmt.Errorf("item %s: %w", it.ID, err)
		}
	}
	search, err := SearchValues(it.Doc)
	if err != nil {
		return nil, fmt.Errorf("item %s: %w", it.ID, err)
	}
	out := make([]any, 0, len(derived))
	for _, d := range derived {
		if d.index >= 0 {
			out = append(out, cols[d.index])
		}
	}
	return append(out, search...), nil
}
