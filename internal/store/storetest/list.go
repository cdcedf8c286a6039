package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// listCase is a query with the ids ListItems must return, in order, and
// the number CountItems must return.
type listCase struct {
	name  string
	q     store.Query
	want  string
	count int
}

// checkList runs the cases against db, with Mailbox as the default mailbox.
func checkList(t *testing.T, db store.Store, tests []listCase) {
	t.Helper()
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.MailboxID == "" {
				tt.q.MailboxID = Mailbox
			}
			got, err := db.ListItems(ctx, tt.q)
			if err != nil {
				t.Fatalf("ListItems: %v", err)
			}
			if g := ids(got); g != tt.want {
				t.Errorf("ListItems: got %q, want %q", g, tt.want)
			}
			n, err := db.CountItems(ctx, tt.q)
			if err != nil || n != tt.count {
				t.Errorf("CountItems: got %d, %v; want %d", n, err, tt.count)
			}
		})
	}
}

var newest = []store.Order{{Column: "received", Desc: true}}

func testListItems(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	var items []store.Item
	subjects := []string{"delta", "Alpha", "charlie", "bravo", "echo"}
	for i, s := range subjects {
		folder := "inbox"
		if i == 4 {
			folder = "archive"
		}
		items = append(items, Message(fmt.Sprintf("m%d", i), folder, s,
			T0.Add(time.Duration(i)*time.Hour), i%2 == 0))
	}
	// m5 ties with m4 on receivedDateTime: id breaks the tie.
	items = append(items, Message("m5", "archive", "foxtrot", T0.Add(4*time.Hour), false))
	// "M6" sorts before "m0" byte by byte: ids are case-sensitive.
	items = append(items, Message("M6", "sub", "_under", T0.Add(-time.Hour), false))
	if err := db.InsertItems(ctx, items...); err != nil {
		t.Fatal(err)
	}

	checkList(t, db, []listCase{
		{"newest in mailbox", store.Query{OrderBy: newest}, "m5 m4 m3 m2 m1 m0 M6", 7},
		{"newest in inbox", store.Query{FolderID: "inbox", OrderBy: newest, Top: 2},
			"m3 m2", 4},
		{"skip", store.Query{FolderID: "inbox", OrderBy: newest, Skip: 3}, "m0", 4},
		{"skip past the end", store.Query{FolderID: "inbox", OrderBy: newest, Skip: 9}, "", 4},
		// Byte order would put "Alpha" (0x41) before "_under" (0x5F);
		// without case it is "alpha" (0x61), after it.
		{"subject ignores case", store.Query{OrderBy: []store.Order{{Column: "subject"}}},
			"M6 m1 m3 m2 m0 m4 m5", 7},
		{"subject descending", store.Query{OrderBy: []store.Order{{Column: "subject",
			Desc: true}}, Top: 3}, "m5 m4 m0", 7},
		{"two keys", store.Query{OrderBy: []store.Order{{Column: "is_read"},
			{Column: "received", Desc: true}}}, "m5 m3 m1 M6 m4 m2 m0", 7},
		{"where with args after ours", store.Query{FolderID: "inbox",
			Where: "is_read = ? AND subject <> ?", Args: []any{true, "ALPHA"}}, "m0 m2", 2},
		{"where eq ignores case", store.Query{Where: "subject = ?", Args: []any{"ECHO"}},
			"m4", 1},
		{"where range ignores case", store.Query{Where: "subject >= ? AND subject < ?",
			Args: []any{"B", "D"}}, "m2 m3", 2},
		{"no order: id", store.Query{FolderID: "archive"}, "m4 m5", 2},
		{"order by id explicitly", store.Query{OrderBy: []store.Order{{Column: "id",
			Desc: true}}, Top: 1}, "m5", 7},
		{"ids are case-sensitive", store.Query{OrderBy: []store.Order{{Column: "id"}},
			Top: 2}, "M6 m0", 7},
		{"other mailbox", store.Query{MailboxID: "other"}, "", 0},
	})

	_, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox,
		OrderBy: []store.Order{{Column: "subject; DROP TABLE messages"}}})
	if err == nil {
		t.Errorf("unknown order column: got no error")
	}
	if n, err := db.CountItems(ctx, store.Query{MailboxID: Mailbox}); err != nil || n != 7 {
		t.Errorf("count after refused order: got %d, %v; want 7", n, err)
	}
}

// testNullsOrder checks where items without a value sort: first
// ascending, last descending (SQLite's rule, kept on every backend).
func testNullsOrder(t *testing.T, db store.Store) {
	Seed(t, db)
	undated := item("u1", "inbox", map[string]any{"id": "u1", "subject": "no date"})
	if err := db.InsertItems(context.Background(), undated,
		Message("d1", "inbox", "dated", T0, false),
		Message("d2", "inbox", "dated", T0.Add(time.Hour), false)); err != nil {
		t.Fatal(err)
	}
	checkList(t, db, []listCase{
		{"newest", store.Query{FolderID: "inbox", OrderBy: newest}, "d2 d1 u1", 3},
		{"oldest", store.Query{FolderID: "inbox", OrderBy: []store.Order{{Column: "received"}}},
			"u1 d1 d2", 3},
		{"is null", store.Query{Where: "received IS NULL"}, "u1", 1},
	})
}

// testPaging walks a folder page by page with ties on the sort key: every
// item must come exactly once, in a stable order.
func testPaging(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	var items []store.Item
	for i := range 23 {
		// Three items share each receivedDateTime.
		items = append(items, Message(fmt.Sprintf("p%02d", i), "inbox", "page",
			T0.Add(time.Duration(i/3)*time.Minute), false))
	}
	if err := db.InsertItems(ctx, items...); err != nil {
		t.Fatal(err)
	}
	var got []store.Item
	for skip := 0; ; skip += 5 {
		page, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox, FolderID: "inbox",
			OrderBy: newest, Skip: skip, Top: 5})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 5 {
			break
		}
	}
	want := ""
	for i := 22; i >= 0; i-- {
		if want != "" {
			want += " "
		}
		want += fmt.Sprintf("p%02d", i)
	}
	if g := ids(got); g != want {
		t.Errorf("pages: got %q, want %q", g, want)
	}
}
