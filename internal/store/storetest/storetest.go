// Package storetest is the behaviour every store.Store backend must show,
// as one test suite. A backend's tests call Run with a function that opens
// a fresh, empty database; the suite then checks mailboxes, folders and
// their counts, item writes with the change-key precondition, lists and
// counts with filters compiled by package odata, paging order, full-text
// search (the same results on every backend, each from its own index),
// MIME storage, the outbound queue, concurrent writers, and the change log:
// change numbers, tombstones of deleted and moved items, a reader never
// skipping a change while writers race, mailbox locks for moves, and
// idempotent puts.
//
// The expected answers are the same for every backend: in particular
// strings compare and sort without regard to ASCII case (Graph's $filter
// eq and $orderby on text ignore case), ids compare byte by byte, and
// NULLs sort before every value ascending and after every value
// descending.
package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Mailbox is the id of the mailbox Seed creates.
const Mailbox = "mbx-1"

// T0 is the time the suite's messages are received from.
var T0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Run runs the suite. open must return a new, empty store each time it is
// called, and close it when t ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"MailboxesAndFolders", testMailboxesAndFolders},
		{"Items", testItems},
		{"ListItems", testListItems},
		{"NullsOrder", testNullsOrder},
		{"ODataFilters", testODataFilters},
		{"Paging", testPaging},
		{"Search", testSearch},
		{"Queue", testQueue},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Changes", testChanges},
		{"ChangesNoGap", testChangesNoGap},
		{"LockedMailbox", testLockedMailbox},
		{"PutItems", testPutItems},
		{"DeleteMailbox", testDeleteMailbox},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// Seed creates Mailbox with a root, inbox, archive and inbox/sub folder.
func Seed(t testing.TB, s store.Store) {
	t.Helper()
	ctx := context.Background()
	err := s.CreateMailbox(ctx, store.Mailbox{ID: Mailbox, Address: "a@contoso.test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []store.Folder{
		{ID: "root", DisplayName: "Top of Information Store", WellKnown: "msgfolderroot",
			IsHidden: true},
		{ID: "inbox", ParentID: "root", DisplayName: "Inbox", WellKnown: "inbox"},
		{ID: "archive", ParentID: "root", DisplayName: "Archive", WellKnown: "archive"},
		{ID: "sub", ParentID: "inbox", DisplayName: "Receipts"},
	} {
		f.MailboxID = Mailbox
		if err := s.CreateFolder(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
}

// Message builds a message of Mailbox with its Graph document; the store
// derives the columns from it.
func Message(id, folder, subject string, received time.Time, read bool) store.Item {
	doc := map[string]any{
		"id": id, "parentFolderId": folder, "subject": subject, "isRead": read,
		"receivedDateTime": schema.FormatTime(received), "importance": "Normal",
		"from": map[string]any{"emailAddress": map[string]any{"address": "x@fabrikam.test"}},
	}
	return item(id, folder, doc)
}

// item wraps a document as an item of Mailbox.
func item(id, folder string, doc map[string]any) store.Item {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return store.Item{MailboxID: Mailbox, ID: id, FolderID: folder, ChangeKey: "ck-" + id,
		Doc: b}
}

// ids lists the ids of items, space-separated.
func ids(items []store.Item) string {
	var out string
	for i, it := range items {
		if i > 0 {
			out += " "
		}
		out += it.ID
	}
	return out
}

// second returns the error of a two-valued call.
func second[T any](_ T, err error) error { return err }
