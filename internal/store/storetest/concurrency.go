package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// testConcurrentWriters runs two writers at once on one store, each
// inserting, moving and reading its own items, then both racing to update
// shared items with the same change key: no write may fail for another
// reason than the precondition, and exactly one update per item wins.
func testConcurrentWriters(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	const perWriter, shared = 40, 20
	for i := range shared {
		id := fmt.Sprintf("s%02d", i)
		if err := db.InsertItems(ctx, Message(id, "inbox", id, T0, false)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*(3*perWriter+shared))
	wins := make(chan string, 2*shared)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%02d", w, i)
				errs <- db.InsertItems(ctx, Message(id, "inbox", id, T0, false))
				errs <- db.UpdateItem(ctx, Message(id, "archive", id, T0, true), "ck-"+id)
				_, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox, Top: 5})
				errs <- err
			}
			for i := range shared {
				id := fmt.Sprintf("s%02d", i)
				it := Message(id, "archive", id, T0, true)
				it.ChangeKey = fmt.Sprintf("ck-%s-by-%d", id, w)
				err := db.UpdateItem(ctx, it, "ck-"+id)
				if errors.Is(err, store.ErrPreconditionFailed) {
					continue
				}
				errs <- err
				if err == nil {
					wins <- id
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(wins)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write: %v", err)
		}
	}
	won := map[string]int{}
	for id := range wins {
		won[id]++
	}
	for i := range shared {
		if id := fmt.Sprintf("s%02d", i); won[id] != 1 {
			t.Errorf("updates of %s that won: got %d, want 1", id, won[id])
		}
	}
	n, err := db.CountItems(ctx, store.Query{MailboxID: Mailbox, FolderID: "archive"})
	if err != nil || n != 2*perWriter+shared {
		t.Errorf("count: got %d, %v; want %d", n, err, 2*perWriter+shared)
	}
}
