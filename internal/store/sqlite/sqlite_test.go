package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

const mbx = "mbx-1"

func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub dir", "db?1.sqlite")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// seed creates a mailbox with a root, inbox and archive folder.
func seed(t testing.TB, db *DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateMailbox(ctx, store.Mailbox{ID: mbx, Address: "a@contoso.test"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.Folder{
		{ID: "root", DisplayName: "Top of Information Store", WellKnown: "msgfolderroot",
			IsHidden: true},
		{ID: "inbox", ParentID: "root", DisplayName: "Inbox", WellKnown: "inbox"},
		{ID: "archive", ParentID: "root", DisplayName: "Archive", WellKnown: "archive"},
		{ID: "sub", ParentID: "inbox", DisplayName: "Receipts"},
	} {
		f.MailboxID = mbx
		if err := db.CreateFolder(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
}

func message(id, folder, subject string, received time.Time, read bool) store.Item {
	doc, err := json.Marshal(map[string]any{
		"id": id, "parentFolderId": folder, "subject": subject, "isRead": read,
		"receivedDateTime": schema.FormatTime(received), "importance": "Normal",
		"from": map[string]any{"emailAddress": map[string]any{"address": "x@fabrikam.test"}},
	})
	if err != nil {
		panic(err)
	}
	return store.Item{MailboxID: mbx, ID: id, FolderID: folder, ChangeKey: "ck-" + id, Doc: doc}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestSchemaColumnsExist(t *testing.T) {
	db, _ := openTest(t)
	rows, err := db.read.Query(`SELECT name FROM pragma_table_info('messages')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		have[n] = true
	}
	for _, c := range schema.Message.Columns {
		if !have[c.Name] {
			t.Errorf("messages has no column %q for %s", c.Name, c.Path)
		}
	}
}

func TestOpenTwiceMigratesOnce(t *testing.T) {
	db, path := openTest(t)
	seed(t, db)
	again, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if _, err := again.Mailbox(context.Background(), mbx); err != nil {
		t.Errorf("mailbox after reopen: %v", err)
	}
}

func TestMailboxesAndFolders(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seed(t, db)
	if err := db.InsertItems(ctx, message("m1", "inbox", "a", t0, false),
		message("m2", "inbox", "b", t0, true), message("m3", "sub", "c", t0, false)); err != nil {
		t.Fatal(err)
	}

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"duplicate mailbox", db.CreateMailbox(ctx, store.Mailbox{ID: mbx}), store.ErrConflict},
			{"folder of missing mailbox", db.CreateFolder(ctx,
				store.Folder{MailboxID: "nope", ID: "x", DisplayName: "x"}), store.ErrNotFound},
			{"duplicate sibling name", db.CreateFolder(ctx, store.Folder{MailboxID: mbx,
				ID: "x", ParentID: "root", DisplayName: "INBOX"}), store.ErrConflict},
			{"second well-known", db.CreateFolder(ctx, store.Folder{MailboxID: mbx, ID: "y",
				ParentID: "root", DisplayName: "Other", WellKnown: "Inbox"}), store.ErrConflict},
			{"missing mailbox", second(db.Mailbox(ctx, "nope")), store.ErrNotFound},
			{"missing folder", second(db.Folder(ctx, mbx, "nope")), store.ErrNotFound},
			{"missing well-known", second(db.FolderByWellKnown(ctx, mbx, "drafts")),
				store.ErrNotFound},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
			}
		}
	})

	t.Run("counts", func(t *testing.T) {
		got, err := db.FolderByWellKnown(ctx, mbx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Folder{MailboxID: mbx, ID: "inbox", ParentID: "root", DisplayName: "Inbox",
			WellKnown: "inbox", ChildFolderCount: 1, TotalItemCount: 2, UnreadItemCount: 1}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("inbox (-want +got):\n%s", d)
		}
	})

	t.Run("children", func(t *testing.T) {
		for _, tt := range []struct{ parent, want string }{
			{"", "archive inbox"}, {"root", "archive inbox"}, {"inbox", "sub"}, {"sub", ""},
		} {
			fs, err := db.Folders(ctx, mbx, tt.parent)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.ID)
			}
			if got := strings.Join(ids, " "); got != tt.want {
				t.Errorf("Folders(%q): got %q, want %q", tt.parent, got, tt.want)
			}
		}
	})
}

func second[T any](_ T, err error) error { return err }

func TestItems(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seed(t, db)
	m := message("m1", "inbox", "Hello", t0, false)
	m.MIME = []byte("Subject: Hello\r\n\r\nhi\r\n")
	if err := db.InsertItems(ctx, m); err != nil {
		t.Fatal(err)
	}

	got, err := db.GetItem(ctx, mbx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ChangeKey != "ck-m1" || got.FolderID != "inbox" || string(got.Doc) != string(m.Doc) {
		t.Errorf("GetItem: got %+v, want %+v", got, m)
	}

	moved := message("m1", "archive", "Hello", t0, true)
	moved.ChangeKey = "ck-2"
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", db.InsertItems(ctx, m), store.ErrConflict},
		{"missing folder", db.InsertItems(ctx, message("m9", "nope", "", t0, false)),
			store.ErrNotFound},
		{"stale change key", db.UpdateItem(ctx, moved, "old"), store.ErrPreconditionFailed},
		{"update", db.UpdateItem(ctx, moved, "ck-m1"), nil},
		{"update missing", db.UpdateItem(ctx, message("m9", "inbox", "", t0, false), ""),
			store.ErrNotFound},
		{"delete missing", db.DeleteItem(ctx, mbx, "m9"), store.ErrNotFound},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}

	got, err = db.GetItem(ctx, mbx, "m1")
	if err != nil || got.FolderID != "archive" || got.ChangeKey != "ck-2" {
		t.Errorf("after update: got %+v, %v; want folder archive, change key ck-2", got, err)
	}
	raw, err := db.ItemMIME(ctx, mbx, "m1")
	if err != nil || string(raw) != string(m.MIME) {
		t.Errorf("ItemMIME after update without MIME: got %q, %v; want %q", raw, err, m.MIME)
	}
	if err := db.DeleteItem(ctx, mbx, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetItem(ctx, mbx, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: got %v, want ErrNotFound", err)
	}
}

func TestListItems(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	seed(t, db)
	var items []store.Item
	subjects := []string{"delta", "Alpha", "charlie", "bravo", "echo"}
	for i, s := range subjects {
		folder := "inbox"
		if i == 4 {
			folder = "archive"
		}
		items = append(items, message(fmt.Sprintf("m%d", i), folder, s,
			t0.Add(time.Duration(i)*time.Hour), i%2 == 0))
	}
	// m5 ties with m4 on receivedDateTime: id breaks the tie.
	items = append(items, message("m5", "archive", "foxtrot", t0.Add(4*time.Hour), false))
	if err := db.InsertItems(ctx, items...); err != nil {
		t.Fatal(err)
	}

	newest := []store.Order{{Column: "received", Desc: true}}
	tests := []struct {
		name  string
		q     store.Query
		want  string
		count int
	}{
		{"newest in mailbox", store.Query{OrderBy: newest}, "m5 m4 m3 m2 m1 m0", 6},
		{"newest in inbox", store.Query{FolderID: "inbox", OrderBy: newest, Top: 2},
			"m3 m2", 4},
		{"skip", store.Query{FolderID: "inbox", OrderBy: newest, Skip: 3}, "m0", 4},
		{"subject ignores case", store.Query{OrderBy: []store.Order{{Column: "subject"}}},
			"m1 m3 m2 m0 m4 m5", 6},
		{"where with args after ours", store.Query{FolderID: "inbox",
			Where: "is_read = ? AND subject <> ?", Args: []any{true, "ALPHA"}}, "m0 m2", 2},
		{"where eq ignores case", store.Query{Where: "subject = ?", Args: []any{"ECHO"}},
			"m4", 1},
		{"no order: id", store.Query{FolderID: "archive"}, "m4 m5", 2},
		{"order by id explicitly", store.Query{OrderBy: []store.Order{{Column: "id",
			Desc: true}}, Top: 1}, "m5", 6},
		{"other mailbox", store.Query{MailboxID: "other"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.q.MailboxID == "" {
				tt.q.MailboxID = mbx
			}
			got, err := db.ListItems(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range got {
				ids = append(ids, it.ID)
			}
			if g := strings.Join(ids, " "); g != tt.want {
				t.Errorf("ListItems: got %q, want %q", g, tt.want)
			}
			n, err := db.CountItems(ctx, tt.q)
			if err != nil || n != tt.count {
				t.Errorf("CountItems: got %d, %v; want %d", n, err, tt.count)
			}
		})
	}

	_, err := db.ListItems(ctx, store.Query{MailboxID: mbx,
		OrderBy: []store.Order{{Column: "subject; DROP TABLE messages"}}})
	if !errors.Is(err, errUnknownColumn) {
		t.Errorf("unknown order column: got %v, want errUnknownColumn", err)
	}
}

// TestNewestIsIndexScan checks that listing the newest messages reads an
// index in order: no sort step ("USE TEMP B-TREE") in the query plan.
func TestNewestIsIndexScan(t *testing.T) {
	db, _ := openTest(t)
	newest := []store.Order{{Column: "received", Desc: true}}
	for _, tt := range []struct {
		name  string
		q     store.Query
		index string
	}{
		{"folder", store.Query{MailboxID: mbx, FolderID: "f", OrderBy: newest, Top: 25},
			"messages_folder_received"},
		{"mailbox", store.Query{MailboxID: mbx, OrderBy: newest, Top: 25}, "messages_received"},
		{"folder oldest", store.Query{MailboxID: mbx, FolderID: "f", Top: 25,
			OrderBy: []store.Order{{Column: "received"}}}, "messages_folder_received"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			where, args := filter(tt.q)
			order, err := orderBy(tt.q.OrderBy)
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, db, `SELECT doc FROM messages`+where+order+` LIMIT 25`, args)
			if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, tt.index) {
				t.Errorf("plan %q: want a scan of %s without a sort", plan, tt.index)
			}
		})
	}
}

func explain(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	rows, err := db.read.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "; ")
}

// TestConcurrentWriters writes from two goroutines on one DB and from two
// DBs (as two processes would) on one file: no write may fail with
// SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	seed(t, db)
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	const perWriter = 50
	var wg sync.WaitGroup
	errs := make(chan error, 4*3*perWriter)
	for w, h := range []*DB{db, db, other, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%d", w, i)
				errs <- h.InsertItems(ctx, message(id, "inbox", id, t0, false))
				it := message(id, "archive", id, t0, true)
				errs <- h.UpdateItem(ctx, it, "")
				_, err := h.ListItems(ctx, store.Query{MailboxID: mbx, Top: 5})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	n, err := db.CountItems(ctx, store.Query{MailboxID: mbx, FolderID: "archive"})
	if err != nil || n != 4*perWriter {
		t.Errorf("count: got %d, %v; want %d", n, err, 4*perWriter)
	}
}

func TestQueue(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	later := t0.Add(time.Hour)
	for _, m := range []store.Outbound{
		{ID: "q1", From: "a@contoso.test", Recipients: []string{"b@onprem.test"},
			MIME: []byte("x"), NextAttempt: later},
		{ID: "q2", From: "a@contoso.test", Recipients: []string{"c@onprem.test",
			"d@onprem.test"}, MIME: []byte("y")},
	} {
		if err := db.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Enqueue(ctx, store.Outbound{ID: "q1", MIME: []byte("z")}); !errors.Is(err,
		store.ErrConflict) {
		t.Errorf("duplicate enqueue: got %v, want ErrConflict", err)
	}

	due, err := db.Due(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Outbound{{ID: "q2", From: "a@contoso.test",
		Recipients: []string{"c@onprem.test", "d@onprem.test"}, MIME: []byte("y"),
		NextAttempt: time.UnixMilli(0).UTC()}}
	if d := cmp.Diff(want, due); d != "" {
		t.Errorf("Due at t0 (-want +got):\n%s", d)
	}

	if err := db.Defer(ctx, "q2", later.Add(time.Minute), "451 try later"); err != nil {
		t.Fatal(err)
	}
	due, err = db.Due(ctx, later.Add(time.Hour), 10)
	if err != nil || len(due) != 2 || due[0].ID != "q1" || due[1].Attempts != 1 ||
		due[1].LastError != "451 try later" {
		t.Errorf("Due later: got %+v, %v; want q1 then q2 with one attempt", due, err)
	}
	if err := db.Dequeue(ctx, "q1"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{db.Dequeue(ctx, "q1"), db.Defer(ctx, "q9", later, "")} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing queue entry: got %v, want ErrNotFound", err)
		}
	}
}

// BenchmarkListNewest25 lists the 25 newest messages of a folder of a
// mailbox holding 10,000 messages in two folders.
func BenchmarkListNewest25(b *testing.B) {
	ctx := context.Background()
	db, _ := openTest(b)
	seed(b, db)
	const total, batch = 10000, 500
	for start := 0; start < total; start += batch {
		items := make([]store.Item, 0, batch)
		for i := start; i < start+batch; i++ {
			folder := "inbox"
			if i%3 == 0 {
				folder = "archive"
			}
			items = append(items, message(fmt.Sprintf("m%05d", i), folder,
				fmt.Sprintf("subject %d", i), t0.Add(time.Duration(i)*time.Minute), i%2 == 0))
		}
		if err := db.InsertItems(ctx, items...); err != nil {
			b.Fatal(err)
		}
	}
	q := store.Query{MailboxID: mbx, FolderID: "inbox", Top: 25,
		OrderBy: []store.Order{{Column: "received", Desc: true}}}

	b.ResetTimer()
	for b.Loop() {
		items, err := db.ListItems(ctx, q)
		if err != nil || len(items) != 25 {
			b.Fatalf("got %d items, %v; want 25", len(items), err)
		}
	}
}

// Past MaxCachedStatements, queries still run, unprepared.
func TestStatementCacheOverflow(t *testing.T) {
	db, _ := openTest(t)
	seed(t, db)
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.InsertItems(ctx, message("m1", "inbox", "hello", now, false)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < MaxCachedStatements+20; i++ {
		q := store.Query{MailboxID: mbx, Where: fmt.Sprintf("subject = ? AND %d = %d", i, i),
			Args: []any{"hello"}}
		items, err := db.ListItems(ctx, q)
		if err != nil || len(items) != 1 {
			t.Fatalf("query %d: %d items, %v; want 1", i, len(items), err)
		}
	}
	if n := len(db.stmts.stmts); n != MaxCachedStatements {
		t.Errorf("cache holds %d statements, want %d", n, MaxCachedStatements)
	}
}
