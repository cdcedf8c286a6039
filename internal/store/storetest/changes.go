package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// changeList renders changes as "seq:id@folder" or "seq:-id@folder" for a
// removal, space-separated, after checking that a present change carries
// its item.
func changeList(t *testing.T, cs []store.Change) string {
	t.Helper()
	var out []string
	for _, c := range cs {
		mark := ""
		switch {
		case c.Removed:
			mark = "-"
			if c.Item != nil {
				t.Errorf("change %d of %s: removed with an item", c.Seq, c.ID)
			}
		case c.Item == nil || c.Item.ID != c.ID || c.Item.FolderID != c.FolderID ||
			c.Item.MailboxID != Mailbox || len(c.Item.Doc) == 0 || c.Item.ChangeKey == "":
			t.Errorf("change %d of %s: item %+v", c.Seq, c.ID, c.Item)
		}
		out = append(out, fmt.Sprintf("%d:%s%s@%s", c.Seq, mark, c.ID, c.FolderID))
	}
	return strings.Join(out, " ")
}

// testChanges walks a mailbox through inserts, an update in place, moves
// out of and back into a folder, a delete and the insert of a deleted id
// again, and checks the change log as a folder and as the whole mailbox
// see it.
func testChanges(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if seq, err := db.ChangeSeq(ctx, Mailbox); err != nil || seq != 0 {
		t.Errorf("ChangeSeq of a new mailbox: got %d, %v; want 0", seq, err)
	}
	must(db.InsertItems(ctx, Message("a", "inbox", "a", T0, false),
		Message("b", "inbox", "b", T0, false), Message("c", "archive", "c", T0, false))) // 1-3
	must(db.UpdateItem(ctx, Message("a", "inbox", "a2", T0, true), ""))    // 4
	must(db.UpdateItem(ctx, Message("b", "archive", "b", T0, false), ""))  // 5: out
	must(db.DeleteItem(ctx, Mailbox, "c"))                                 // 6
	must(db.UpdateItem(ctx, Message("b", "inbox", "b", T0, false), ""))    // 7: back
	must(db.UpdateItem(ctx, Message("a", "archive", "a", T0, false), ""))  // 8: out
	must(db.DeleteItem(ctx, Mailbox, "a"))                                 // 9
	must(db.InsertItems(ctx, Message("c", "inbox", "c again", T0, false))) // 10

	if seq, err := db.ChangeSeq(ctx, Mailbox); err != nil || seq != 10 {
		t.Errorf("ChangeSeq: got %d, %v; want 10", seq, err)
	}
	tests := []struct {
		name, folder string
		after        int64
		limit        int
		want         string
	}{
		{"inbox from the start", "inbox", 0, 100, "7:b@inbox 8:-a@inbox 10:c@inbox"},
		{"archive from the start", "archive", 0, 100,
			"6:-c@archive 7:-b@archive 9:-a@archive"},
		{"mailbox from the start", "", 0, 100, "7:b@inbox 9:-a@archive 10:c@inbox"},
		{"inbox after 7", "inbox", 7, 100, "8:-a@inbox 10:c@inbox"},
		{"mailbox after 9", "", 9, 100, "10:c@inbox"},
		{"limit", "", 0, 2, "7:b@inbox 9:-a@archive"},
		{"nothing new", "", 10, 100, ""},
		{"empty folder", "sub", 0, 100, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := db.Changes(ctx, Mailbox, tt.folder, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := changeList(t, cs); got != tt.want {
				t.Errorf("Changes(%q, %d, %d): got %q, want %q", tt.folder, tt.after,
					tt.limit, got, tt.want)
			}
		})
	}
	cs, err := db.Changes(ctx, Mailbox, "inbox", 9, 1)
	if err != nil || len(cs) != 1 || cs[0].Item == nil ||
		!strings.Contains(string(cs[0].Item.Doc), "c again") {
		t.Errorf("changed item: got %+v, %v; want c's current document", cs, err)
	}

	if _, err := db.ChangeSeq(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ChangeSeq of a missing mailbox: got %v, want ErrNotFound", err)
	}
	// Failed writes take no change number.
	for _, err := range []error{
		db.InsertItems(ctx, Message("b", "inbox", "dup", T0, false)),
		db.UpdateItem(ctx, Message("b", "inbox", "b", T0, false), "stale"),
		db.DeleteItem(ctx, Mailbox, "zzz"),
	} {
		if err == nil {
			t.Errorf("bad write: got no error")
		}
	}
	if seq, err := db.ChangeSeq(ctx, Mailbox); err != nil || seq != 10 {
		t.Errorf("ChangeSeq after failed writes: got %d, %v; want 10", seq, err)
	}
}

// testLockedMailbox locks a mailbox: every kind of item write fails with
// ErrMailboxLocked and changes nothing, reads go on, and unlocking lets
// writes in again.
func testLockedMailbox(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	if err := db.InsertItems(ctx, Message("a", "inbox", "a", T0, false)); err != nil {
		t.Fatal(err)
	}
	if err := db.LockMailbox(ctx, Mailbox, time.Minute); err != nil {
		t.Fatal(err)
	}
	writes := []struct {
		name string
		err  error
	}{
		{"insert", db.InsertItems(ctx, Message("b", "inbox", "b", T0, false))},
		{"update", db.UpdateItem(ctx, Message("a", "inbox", "a2", T0, true), "")},
		{"move", db.UpdateItem(ctx, Message("a", "archive", "a", T0, false), "")},
		{"delete", db.DeleteItem(ctx, Mailbox, "a")},
		{"put", db.PutItems(ctx, Message("c", "inbox", "c", T0, false))},
	}
	for _, w := range writes {
		if !errors.Is(w.err, store.ErrMailboxLocked) {
			t.Errorf("%s while locked: got %v, want ErrMailboxLocked", w.name, w.err)
		}
	}
	got, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox})
	if err != nil || ids(got) != "a" || !strings.Contains(string(got[0].Doc), `"a"`) {
		t.Errorf("read while locked: got %q, %v; want a unchanged", ids(got), err)
	}
	if seq, err := db.ChangeSeq(ctx, Mailbox); err != nil || seq != 1 {
		t.Errorf("ChangeSeq while locked: got %d, %v; want 1", seq, err)
	}
	if held, err := db.RenewMailboxLock(ctx, Mailbox, time.Minute); err != nil || !held {
		t.Errorf("renew a lock that holds: got %v, %v; want true", held, err)
	}
	if err := db.LockMailbox(ctx, Mailbox, 0); err != nil {
		t.Fatal(err)
	}
	if held, err := db.RenewMailboxLock(ctx, Mailbox, time.Minute); err != nil || held {
		t.Errorf("renew after unlock: got %v, %v; want false", held, err)
	}
	if err := db.DeleteItem(ctx, Mailbox, "a"); err != nil {
		t.Errorf("delete after unlock: %v", err)
	}
	if err := db.LockMailbox(ctx, "nope", time.Minute); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("lock a missing mailbox: got %v, want ErrNotFound", err)
	}

	// A lease runs out by itself (the move that took it died): writes go
	// in again, and a renewal says the lock was lost.
	if err := db.LockMailbox(ctx, Mailbox, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertItems(ctx, Message("d", "inbox", "d", T0, false)); !errors.Is(err,
		store.ErrMailboxLocked) {
		t.Errorf("insert under a short lease: got %v, want ErrMailboxLocked", err)
	}
	time.Sleep(120 * time.Millisecond)
	if err := db.InsertItems(ctx, Message("d", "inbox", "d", T0, false)); err != nil {
		t.Errorf("insert after the lease ran out: %v", err)
	}
	if held, err := db.RenewMailboxLock(ctx, Mailbox, time.Minute); err != nil || held {
		t.Errorf("renew after the lease ran out: got %v, %v; want false", held, err)
	}
	// LockForever holds however long.
	if err := db.LockMailbox(ctx, Mailbox, store.LockForever); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteItem(ctx, Mailbox, "d"); !errors.Is(err, store.ErrMailboxLocked) {
		t.Errorf("delete under LockForever: got %v, want ErrMailboxLocked", err)
	}
}

// testPutItems puts the same items twice (the retry of a move's copy
// step): the result is the same, ids, change keys and MIME as given; a
// put into another folder is a move for the change log.
func testPutItems(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	a := Message("a", "inbox", "a", T0, false)
	a.ChangeKey, a.MIME = "CQAAAB", []byte("Subject: a\r\n\r\n\x00")
	b := Message("b", "archive", "b", T0, true)
	for round := range 2 {
		if err := db.PutItems(ctx, a, b); err != nil {
			t.Fatalf("put %d: %v", round, err)
		}
	}
	got, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox})
	if err != nil || ids(got) != "a b" {
		t.Fatalf("after two puts: got %q, %v; want \"a b\"", ids(got), err)
	}
	want := []store.Item{
		{MailboxID: Mailbox, ID: "a", FolderID: "inbox", ChangeKey: "CQAAAB", Doc: a.Doc},
		{MailboxID: Mailbox, ID: "b", FolderID: "archive", ChangeKey: "ck-b", Doc: b.Doc},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("items after two puts (-want +got):\n%s", d)
	}
	if raw, err := db.ItemMIME(ctx, Mailbox, "a"); err != nil || string(raw) != string(a.MIME) {
		t.Errorf("MIME: got %q, %v; want %q", raw, err, a.MIME)
	}
	a.FolderID = "archive"
	if err := db.PutItems(ctx, a); err != nil {
		t.Fatal(err)
	}
	cs, err := db.Changes(ctx, Mailbox, "inbox", 0, 10)
	if got := changeList(t, cs); err != nil || got != "5:-a@inbox" {
		t.Errorf("inbox after a put elsewhere: got %q, %v; want \"5:-a@inbox\"", got, err)
	}
	if n, err := db.CountItems(ctx, store.Query{MailboxID: Mailbox, FolderID: "inbox"}); err != nil ||
		n != 0 {
		t.Errorf("inbox count: got %d, %v; want 0", n, err)
	}
}

// testDeleteMailbox removes a locked mailbox with its items and change
// log; another mailbox stays.
func testDeleteMailbox(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateMailbox(ctx, store.Mailbox{ID: "other", Address: "o@contoso.test"}))
	must(db.CreateFolder(ctx, store.Folder{MailboxID: "other", ID: "inbox",
		DisplayName: "Inbox", WellKnown: "inbox"}))
	o := Message("o", "inbox", "o", T0, false)
	o.MailboxID = "other"
	must(db.InsertItems(ctx, Message("a", "inbox", "a", T0, false), o))
	must(db.DeleteItem(ctx, Mailbox, "a"))
	must(db.LockMailbox(ctx, Mailbox, time.Minute))
	must(db.DeleteMailbox(ctx, Mailbox))

	for name, err := range map[string]error{
		"mailbox":       second(db.Mailbox(ctx, Mailbox)),
		"folder":        second(db.Folder(ctx, Mailbox, "inbox")),
		"change number": second(db.ChangeSeq(ctx, Mailbox)),
		"again":         db.DeleteMailbox(ctx, Mailbox),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: got %v, want ErrNotFound", name, err)
		}
	}
	// The same id can be created again, with an empty change log.
	Seed(t, db)
	if cs, err := db.Changes(ctx, Mailbox, "", 0, 10); err != nil || len(cs) != 0 {
		t.Errorf("changes of the new mailbox: got %+v, %v; want none", cs, err)
	}
	if got, err := db.ListItems(ctx, store.Query{MailboxID: "other"}); err != nil ||
		ids(got) != "o" {
		t.Errorf("other mailbox: got %q, %v; want \"o\"", ids(got), err)
	}
}

// testChangesNoGap runs two writers inserting new items while a reader
// follows the change log: since every change is a new item, the numbers
// the reader sees must run 1, 2, 3, … without a gap, and it must see every
// item. A number seen before a lower one has committed would make the
// reader skip that one for ever.
func testChangesNoGap(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	const perWriter = 60
	var wg sync.WaitGroup
	errs := make(chan error, 2*perWriter)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := fmt.Sprintf("w%d-%02d", w, i)
				errs <- db.InsertItems(ctx, Message(id, "inbox", id, T0, false))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var after int64
	seen := map[string]bool{}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more read after the last commit
		default:
		}
		cs, err := db.Changes(ctx, Mailbox, "inbox", after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Seq != after+1 {
				t.Fatalf("after change %d came %d: a reader would skip changes", after, c.Seq)
			}
			after = c.Seq
			seen[c.ID] = true
		}
		if len(cs) == 7 {
			finished = false // more may be waiting
		}
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 2*perWriter || after != 2*perWriter {
		t.Errorf("reader saw %d items up to change %d, want %d", len(seen), after, 2*perWriter)
	}
}
