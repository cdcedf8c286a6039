package sqlstore

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

var (
	question = Dialect{Desc: " DESC", False: "0", NoLimit: -1}
	numbered = Dialect{Numbered: true, Asc: " ASC NULLS FIRST", Desc: " DESC NULLS LAST",
		Rebind: func(w string, first, nargs int) (string, error) {
			return strings.Replace(w, "?", Dialect{Numbered: true}.Param(first), 1), nil
		}}
)

func TestOrderBy(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    Dialect
		keys []store.Order
		want string
	}{
		{"none", question, nil, " ORDER BY id"},
		{"desc adds id desc", question, []store.Order{{Column: "received", Desc: true}},
			" ORDER BY received DESC, id DESC"},
		{"id last is kept", question,
			[]store.Order{{Column: "subject"}, {Column: "id", Desc: true}},
			" ORDER BY subject, id DESC"},
		{"tie-break follows the last key", numbered,
			[]store.Order{{Column: "subject", Desc: true}, {Column: "received"}},
			" ORDER BY subject DESC NULLS LAST, received ASC NULLS FIRST, id ASC NULLS FIRST"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OrderBy(tt.d, tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFilter(t *testing.T) {
	q := store.Query{MailboxID: "m", FolderID: "f", Where: "is_read = ?", Args: []any{true}}
	for _, tt := range []struct {
		name string
		d    Dialect
		q    store.Query
		want string
		args []any
	}{
		{"mailbox", question, store.Query{MailboxID: "m", Where: " "},
			" WHERE mailbox_id = ?", []any{"m"}},
		{"folder and where", question, q,
			" WHERE mailbox_id = ? AND folder_id = ? AND (is_read = ?)", []any{"m", "f", true}},
		{"rebound", numbered, q,
			" WHERE mailbox_id = $1 AND folder_id = $2 AND (is_read = $3)",
			[]any{"m", "f", true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, args, err := Filter(tt.d, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if diff := cmp.Diff(tt.args, args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterRebindError(t *testing.T) {
	bad := errors.New("bad where")
	d := Dialect{Rebind: func(string, int, int) (string, error) { return "", bad }}
	q := store.Query{MailboxID: "m", Where: "x = ?"}
	if _, _, err := ListSQL(d, q); !errors.Is(err, bad) {
		t.Errorf("got %v, want %v", err, bad)
	}
}

func TestListSQL(t *testing.T) {
	q := store.Query{MailboxID: "m", Top: 10, Skip: -3}
	got, args, err := ListSQL(numbered, q)
	if err != nil {
		t.Fatal(err)
	}
	want := `SELECT mailbox_id, id, folder_id, change_key, doc FROM messages` +
		` WHERE mailbox_id = $1 ORDER BY id ASC NULLS FIRST LIMIT $2 OFFSET $3`
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if diff := cmp.Diff([]any{"m", 10, 0}, args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if _, args, _ = ListSQL(question, store.Query{MailboxID: "m"}); args[1] != -1 {
		t.Errorf("no $top: got limit %v, want -1", args[1])
	}
}

// TestStatementParams checks that the write statements have one
// placeholder per argument their callers bind.
func TestStatementParams(t *testing.T) {
	// id and folder_id are fixed columns; the search columns are derived.
	n := len(schema.Message.Columns) - 2 + len(searchColumns)
	for _, tt := range []struct {
		name string
		sql  string
		want int
	}{
		{"insert ?", InsertSQL(question), 7 + n},
		{"update ?", UpdateSQL(question), 4 + n + 5},
		{"insert $", InsertSQL(numbered), 7 + n},
		{"upsert ?", UpsertSQL(question), 7 + n},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Count(tt.sql, "?") + strings.Count(tt.sql, "$")
			if got != tt.want {
				t.Errorf("got %d placeholders, want %d", got, tt.want)
			}
		})
	}
	upd := UpdateSQL(numbered)
	last := "$" + strconv.Itoa(4+n+4)
	if !strings.Contains(upd, "("+last+" = '' OR change_key = "+last+")") ||
		!strings.Contains(upd, "change_seq = $"+strconv.Itoa(4+n+1)+"\n") ||
		strings.Contains(upd, "$"+strconv.Itoa(4+n+5)) {
		t.Errorf("update: want the change key bound once as %s: %s", last, upd)
	}
}

func TestColumnArgs(t *testing.T) {
	cols := make([]any, len(schema.Message.Columns))
	for i := range cols {
		cols[i] = i
	}
	doc := `{"subject":"Hello World"}`
	got, err := ColumnArgs(store.Item{ID: "i", Cols: cols, Doc: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(derived) {
		t.Fatalf("got %d values, want %d", len(got), len(derived))
	}
	for i, d := range derived {
		want := any(d.index)
		if d.index < 0 {
			want = "" // a search column: the document has no such field
		}
		if d.name == SearchColumn(store.FieldSubject) {
			want = "hello world"
		}
		if got[i] != want {
			t.Errorf("%s: got column %v, want %v", d.name, got[i], want)
		}
	}
	if _, err := ColumnArgs(store.Item{ID: "i", Doc: []byte("{")}); err == nil {
		t.Error("bad document: got no error")
	}
}

// FuzzOrderBy checks that no text but schema column names reaches ORDER
// BY: any other column is ErrUnknownColumn.
func FuzzOrderBy(f *testing.F) {
	f.Add("subject", true)
	f.Add("subject; DROP TABLE messages", false)
	f.Fuzz(func(t *testing.T, col string, desc bool) {
		got, err := OrderBy(numbered, []store.Order{{Column: col, Desc: desc}})
		if !sortable[col] {
			if !errors.Is(err, ErrUnknownColumn) {
				t.Fatalf("%q: got %q, %v; want ErrUnknownColumn", col, got, err)
			}
			return
		}
		if err != nil || !strings.HasPrefix(got, " ORDER BY "+col+" ") {
			t.Fatalf("%q: got %q, %v", col, got, err)
		}
	})
}
