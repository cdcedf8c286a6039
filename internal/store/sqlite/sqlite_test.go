package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/storetest"
)

const mbx = storetest.Mailbox

var (
	seed    = storetest.Seed
	message = storetest.Message
	t0      = storetest.T0
)

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

// TestStore runs the store suite shared by every backend.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTest(t)
		return db
	})
}

// An $orderby column that is not a schema column never reaches the SQL.
func TestUnknownOrderColumn(t *testing.T) {
	db, _ := openTest(t)
	_, err := db.ListItems(context.Background(), store.Query{MailboxID: mbx,
		OrderBy: []store.Order{{Column: "subject; DROP TABLE messages"}}})
	if !errors.Is(err, errUnknownColumn) {
		t.Errorf("unknown order column: got %v, want errUnknownColumn", err)
	}
}

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

// BenchmarkListNewest25 lists the 25 newest messages of a folder of a
// mailbox holding 10,000 messages (see storetest.BenchListNewest25).
func BenchmarkListNewest25(b *testing.B) {
	db, _ := openTest(b)
	storetest.BenchListNewest25(b, db)
}

// BenchmarkWrite500 writes 500 messages by InsertItems and by PutItems (see
// storetest.BenchWrite500).
func BenchmarkWrite500(b *testing.B) {
	db, _ := openTest(b)
	storetest.BenchWrite500(b, db)
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
