package odata

import (
	"database/sql"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	_ "modernc.org/sqlite"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// sqliteMessages builds an in-memory table from schema.Message.Columns and
// fills it with docs, the way the store derives columns from documents.
func sqliteMessages(t testing.TB, docs []string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection: one in-memory database
	t.Cleanup(func() { db.Close() })

	cols := make([]string, len(schema.Message.Columns))
	names := make([]string, len(schema.Message.Columns))
	for i, c := range schema.Message.Columns {
		typ := "TEXT"
		if c.Kind == schema.Bool || c.Kind == schema.Int32 {
			typ = "INTEGER"
		}
		cols[i], names[i] = c.Name+" "+typ, c.Name
	}
	if _, err := db.Exec("CREATE TABLE messages (" + strings.Join(cols, ", ") + ")"); err != nil {
		t.Fatal(err)
	}
	insert := "INSERT INTO messages (" + strings.Join(names, ", ") + ") VALUES (?" +
		strings.Repeat(", ?", len(names)-1) + ")"
	for _, doc := range docs {
		vals, err := schema.Message.ColumnValues([]byte(doc))
		if err != nil {
			t.Fatalf("ColumnValues(%s): %v", doc, err)
		}
		if _, err := db.Exec(insert, vals...); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func selectIDs(t testing.TB, db *sql.DB, where string, args []any) []string {
	t.Helper()
	rows, err := db.Query("SELECT id FROM messages WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		t.Fatalf("query %q: %v", where, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestFilterRunsOnSQLite runs compiled filters against a real table: the
// SQL must execute, select the right rows, and not(f) must select exactly
// the rows f does not, NULL columns included.
func TestFilterRunsOnSQLite(t *testing.T) {
	db := sqliteMessages(t, []string{
		`{"id":"m1","subject":"100% sure","isRead":true,"importance":"high",` +
			`"receivedDateTime":"2024-01-01T10:00:00Z",` +
			`"from":{"emailAddress":{"name":"Ann","address":"ann@contoso.com"}}}`,
		`{"id":"m2","subject":"100 percent","isRead":false,"importance":"normal",` +
			`"receivedDateTime":"2024-01-02T10:00:00+02:00",` +
			`"from":{"emailAddress":{"name":"Bob","address":"bob@fabrikam.com"}}}`,
		`{"id":"m3","isRead":false,"importance":"low"}`,
		`{"id":"m4","subject":"O'Brien_x","isRead":true,"flag":{"flagStatus":"flagged"},` +
			`"receivedDateTime":"2024-01-03T00:00:00Z"}`,
	})
	all := []string{"m1", "m2", "m3", "m4"}
	tests := []struct {
		filter string
		want   []string
	}{
		{"subject eq '100% sure'", []string{"m1"}},
		{"subject ne '100% sure'", []string{"m2", "m3", "m4"}},
		{"subject eq null", []string{"m3"}},
		{"startswith(subject,'100%')", []string{"m1"}},
		{"contains(subject,'_')", []string{"m4"}},
		{"contains(subject,'O''Brien')", []string{"m4"}},
		{"endswith(from/emailAddress/address,'@contoso.com')", []string{"m1"}},
		{"receivedDateTime ge 2024-01-02", []string{"m2", "m4"}},
		{"receivedDateTime lt 2024-01-02T08:00:00.5Z", []string{"m1", "m2"}},
		{"receivedDateTime eq 2024-01-02T08:00:00Z", []string{"m2"}},
		{"isRead eq false and importance ne 'Low'", []string{"m2"}},
		{"isRead", []string{"m1", "m4"}},
		{"importance in ('High','low')", []string{"m1", "m3"}},
		{"flag/flagStatus eq 'flagged' or from/emailAddress/name eq 'Bob'",
			[]string{"m2", "m4"}},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			for _, neg := range []bool{false, true} {
				f, want := tt.filter, tt.want
				if neg {
					f = "not(" + f + ")"
					want = slices.DeleteFunc(slices.Clone(all), func(id string) bool {
						return slices.Contains(tt.want, id)
					})
				}
				q, err := Parse(url.Values{"$filter": {f}}, schema.Message, schema.Graph,
					DefaultLimits)
				if err != nil {
					t.Fatalf("Parse(%q): %v", f, err)
				}
				got := selectIDs(t, db, q.Store.Where, q.Store.Args)
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s → %s %v: ids (-want +got):\n%s", f, q.Store.Where,
						q.Store.Args, diff)
				}
			}
		})
	}
}
