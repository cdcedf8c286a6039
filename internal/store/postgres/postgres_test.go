package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
	"github.com/hybridgraph/hybridgraph/internal/store/storetest"
)

// freshDSN creates a throwaway database for this test (pgtest.FreshDSN).
func freshDSN(t testing.TB) string { return pgtest.FreshDSN(t, "hgtest_") }

// serverDSN is the test server's DSN (pgtest.ServerDSN).
func serverDSN(t testing.TB) string { return pgtest.ServerDSN(t) }

func openTest(t testing.TB) (*DB, string) {
	t.Helper()
	dsn := freshDSN(t)
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// TestStore runs the store suite shared by every backend.
func TestStore(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openTest(t)
		return db
	})
}

func TestSchemaColumnsExist(t *testing.T) {
	db, _ := openTest(t)
	rows, err := db.pool.Query(context.Background(),
		`SELECT column_name FROM information_schema.columns WHERE table_name = 'messages'`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, c := range schema.Message.Columns {
		if !have[c.Name] {
			t.Errorf("messages has no column %q for %s", c.Name, c.Path)
		}
	}
}

// Gateways starting together open the same database at once: the
// migrations must run once, without failing the others.
func TestOpenConcurrentlyMigratesOnce(t *testing.T) {
	dsn := freshDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), dsn)
			if err == nil {
				err = db.CreateMailbox(context.Background(),
					store.Mailbox{ID: fmt.Sprint("m", i), Address: "a@contoso.test"})
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent open: %v", err)
	}
}

func TestUnknownOrderColumn(t *testing.T) {
	if _, err := orderBy([]store.Order{{Column: "subject; DROP TABLE messages"}}); !errors.Is(
		err, errUnknownColumn) {
		t.Errorf("unknown order column: got %v, want errUnknownColumn", err)
	}
}

// TestNewestIsIndexScan checks that listing the newest messages reads an
// ordered index with no Sort step in the plan, on an analysed table of a
// few thousand messages. Sequential scans are turned off because a small
// table may be cheaper to sort than to walk by index; what matters is
// that the index can serve the order.
func TestNewestIsIndexScan(t *testing.T) {
	db, _ := openTest(t)
	loadForPlans(t, db)
	newest := []store.Order{{Column: "received", Desc: true}}
	for _, tt := range []struct {
		name  string
		q     store.Query
		index string
	}{
		{"folder", store.Query{MailboxID: storetest.Mailbox, FolderID: "inbox", OrderBy: newest},
			"messages_folder_received"},
		{"mailbox", store.Query{MailboxID: storetest.Mailbox, OrderBy: newest}, "messages_received"},
		{"folder oldest", store.Query{MailboxID: storetest.Mailbox, FolderID: "inbox",
			OrderBy: []store.Order{{Column: "received"}}}, "messages_folder_received"},
		{"folder unread", store.Query{MailboxID: storetest.Mailbox, FolderID: "inbox", OrderBy: newest,
			Where: "(is_read IS NULL OR is_read <> ?)", Args: []any{true}},
			"messages_folder_received"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			where, args, err := filter(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			order, err := orderBy(tt.q.OrderBy)
			if err != nil {
				t.Fatal(err)
			}
			plan := explain(t, db, `SELECT doc FROM messages`+where+order+` LIMIT 25`, args)
			if strings.Contains(plan, "Sort") || !strings.Contains(plan, tt.index) {
				t.Errorf("plan %q: want a scan of %s without a sort", plan, tt.index)
			}
		})
	}
}

// loadForPlans fills three folders and updates the planner's statistics.
func loadForPlans(t *testing.T, db *DB) {
	ctx := context.Background()
	storetest.Seed(t, db)
	var items []store.Item
	for i := range 3000 {
		folder := []string{"inbox", "archive", "sub"}[i%3]
		items = append(items, storetest.Message(fmt.Sprintf("m%04d", i), folder, "s",
			storetest.T0.Add(time.Duration(i)*time.Minute), i%2 == 0))
	}
	if err := db.InsertItems(ctx, items...); err != nil {
		t.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE messages`); err != nil {
		t.Fatal(err)
	}
}

func explain(t *testing.T, db *DB, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `EXPLAIN `+query, args...)
		if err != nil {
			return err
		}
		lines, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "; ")
}

// TestDueTwoProcesses runs two stores on one database, as two gateways
// would, each taking due messages and delivering them: no message may be
// handed out twice, and every one is delivered.
func TestDueTwoProcesses(t *testing.T) {
	ctx := context.Background()
	a, dsn := openTest(t)
	b, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const total = 200
	for i := range total {
		m := store.Outbound{ID: fmt.Sprintf("q%03d", i), From: "a@contoso.test",
			Recipients: []string{"b@onprem.test"}, MIME: []byte("x")}
		if err := a.Enqueue(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for _, db := range []*DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				due, err := db.Due(ctx, now, 7)
				if err != nil || len(due) == 0 {
					if err != nil {
						t.Error(err)
					}
					return
				}
				for _, m := range due {
					mu.Lock()
					seen[m.ID]++
					mu.Unlock()
					if err := db.Dequeue(ctx, m.ID); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s handed out %d times, want once", id, n)
		}
	}
	if len(seen) != total {
		t.Errorf("delivered %d messages, want %d", len(seen), total)
	}
}

// A claimed message comes back once its lease has run out, so that a
// crashed worker delays it but does not lose it.
func TestDueLeaseExpires(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if err := db.Enqueue(ctx, store.Outbound{ID: "q1", MIME: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tt := range []struct {
		at   time.Time
		want int
	}{{now, 1}, {now.Add(time.Minute), 0}, {now.Add(ClaimLease + time.Second), 1}} {
		due, err := db.Due(ctx, tt.at, 10)
		if err != nil || len(due) != tt.want {
			t.Errorf("Due at %v: got %d, %v; want %d", tt.at.Sub(now), len(due), err, tt.want)
		}
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
