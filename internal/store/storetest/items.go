package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// testItems covers insert, get, update with the change-key precondition,
// delete and the MIME form.
func testItems(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	m := Message("m1", "inbox", "Hello", T0, false)
	m.MIME = []byte("Subject: Hello\r\n\r\nhi \x00\xff\r\n") // any bytes, not just text
	if err := db.InsertItems(ctx, m, Message("m2", "inbox", "no mime", T0, false)); err != nil {
		t.Fatal(err)
	}

	got, err := db.GetItem(ctx, Mailbox, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ChangeKey != "ck-m1" || got.FolderID != "inbox" || string(got.Doc) != string(m.Doc) {
		t.Errorf("GetItem: got %+v, want %+v", got, m)
	}

	moved := Message("m1", "archive", "Hello", T0, true)
	moved.ChangeKey = "ck-2"
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate", db.InsertItems(ctx, m), store.ErrConflict},
		{"missing folder", db.InsertItems(ctx, Message("m9", "nope", "", T0, false)),
			store.ErrNotFound},
		{"batch is atomic", db.InsertItems(ctx, Message("m8", "inbox", "", T0, false), m),
			store.ErrConflict},
		{"stale change key", db.UpdateItem(ctx, moved, "old"), store.ErrPreconditionFailed},
		{"update", db.UpdateItem(ctx, moved, "ck-m1"), nil},
		{"update missing", db.UpdateItem(ctx, Message("m9", "inbox", "", T0, false), ""),
			store.ErrNotFound},
		{"update into missing folder", db.UpdateItem(ctx, Message("m1", "nope", "", T0,
			false), ""), store.ErrNotFound},
		{"delete missing", db.DeleteItem(ctx, Mailbox, "m9"), store.ErrNotFound},
		{"rolled back", second(db.GetItem(ctx, Mailbox, "m8")), store.ErrNotFound},
		{"no mime", second(db.ItemMIME(ctx, Mailbox, "m2")), store.ErrNotFound},
		{"mime of missing item", second(db.ItemMIME(ctx, Mailbox, "m9")), store.ErrNotFound},
		{"other mailbox", second(db.GetItem(ctx, "other", "m1")), store.ErrNotFound},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
		}
	}

	got, err = db.GetItem(ctx, Mailbox, "m1")
	if err != nil || got.FolderID != "archive" || got.ChangeKey != "ck-2" {
		t.Errorf("after update: got %+v, %v; want folder archive, change key ck-2", got, err)
	}
	raw, err := db.ItemMIME(ctx, Mailbox, "m1")
	if err != nil || string(raw) != string(m.MIME) {
		t.Errorf("ItemMIME after update without MIME: got %q, %v; want %q", raw, err, m.MIME)
	}
	moved.MIME = []byte("Subject: new\r\n\r\n")
	if err := db.UpdateItem(ctx, moved, "ck-2"); err != nil {
		t.Fatal(err)
	}
	if raw, err := db.ItemMIME(ctx, Mailbox, "m1"); err != nil || string(raw) != string(moved.MIME) {
		t.Errorf("ItemMIME after update with MIME: got %q, %v; want %q", raw, err, moved.MIME)
	}
	if err := db.DeleteItem(ctx, Mailbox, "m1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetItem(ctx, Mailbox, "m1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get after delete: got %v, want ErrNotFound", err)
	}
}
