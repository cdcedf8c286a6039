package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

func testMailboxesAndFolders(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	if err := db.InsertItems(ctx, Message("m1", "inbox", "a", T0, false),
		Message("m2", "inbox", "b", T0, true), Message("m3", "sub", "c", T0, false)); err != nil {
		t.Fatal(err)
	}

	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			err  error
			want error
		}{
			{"duplicate mailbox", db.CreateMailbox(ctx, store.Mailbox{ID: Mailbox}),
				store.ErrConflict},
			{"folder of missing mailbox", db.CreateFolder(ctx,
				store.Folder{MailboxID: "nope", ID: "x", DisplayName: "x"}), store.ErrNotFound},
			{"duplicate sibling name", db.CreateFolder(ctx, store.Folder{MailboxID: Mailbox,
				ID: "x", ParentID: "root", DisplayName: "INBOX"}), store.ErrConflict},
			{"second well-known", db.CreateFolder(ctx, store.Folder{MailboxID: Mailbox,
				ID: "y", ParentID: "root", DisplayName: "Other", WellKnown: "Inbox"}),
				store.ErrConflict},
			{"missing mailbox", second(db.Mailbox(ctx, "nope")), store.ErrNotFound},
			{"missing folder", second(db.Folder(ctx, Mailbox, "nope")), store.ErrNotFound},
			{"missing well-known", second(db.FolderByWellKnown(ctx, Mailbox, "drafts")),
				store.ErrNotFound},
			{"find missing folder", second(db.FindFolder(ctx, Mailbox, "nope", false)),
				store.ErrNotFound},
			{"find missing well-known", second(db.FindFolder(ctx, Mailbox, "drafts", true)),
				store.ErrNotFound},
			{"find by id, not by name", second(db.FindFolder(ctx, Mailbox, "Inbox", false)),
				store.ErrNotFound},
			{"find other mailbox", second(db.FindFolder(ctx, "nope", "inbox", false)),
				store.ErrNotFound},
		}
		for _, tt := range tests {
			if !errors.Is(tt.err, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, tt.err, tt.want)
			}
		}
	})

	t.Run("mailbox", func(t *testing.T) {
		got, err := db.Mailbox(ctx, Mailbox)
		want := store.Mailbox{ID: Mailbox, Address: "a@contoso.test",
			Incarnation: got.Incarnation}
		if err != nil || got != want || got.Incarnation == "" {
			t.Errorf("Mailbox: got %+v, %v; want %+v and an incarnation", got, err, want)
		}
		// Created again (a move back), the mailbox is another copy.
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(db.CreateMailbox(ctx, store.Mailbox{ID: "again", Incarnation: "given"}))
		first, err := db.Mailbox(ctx, "again")
		must(err)
		must(db.DeleteMailbox(ctx, "again"))
		must(db.CreateMailbox(ctx, store.Mailbox{ID: "again", Incarnation: first.Incarnation}))
		second, err := db.Mailbox(ctx, "again")
		must(err)
		if first.Incarnation == "given" || first.Incarnation == second.Incarnation {
			t.Errorf("incarnations of two copies: %q then %q; want new ones", first.Incarnation,
				second.Incarnation)
		}
	})

	t.Run("counts", func(t *testing.T) {
		got, err := db.FolderByWellKnown(ctx, Mailbox, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Folder{MailboxID: Mailbox, ID: "inbox", ParentID: "root",
			DisplayName: "Inbox", WellKnown: "inbox", ChildFolderCount: 1, TotalItemCount: 2,
			UnreadItemCount: 1}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("inbox (-want +got):\n%s", d)
		}
		root, err := db.Folder(ctx, Mailbox, "root")
		if err != nil || !root.IsHidden || root.ChildFolderCount != 2 {
			t.Errorf("root: got %+v, %v; want hidden with 2 children", root, err)
		}
	})

	t.Run("find without counts", func(t *testing.T) {
		want := store.Folder{MailboxID: Mailbox, ID: "inbox", ParentID: "root",
			DisplayName: "Inbox", WellKnown: "inbox"}
		for _, tt := range []struct {
			key         string
			byWellKnown bool
		}{{"inbox", false}, {"INBOX", true}, {"inbox", true}} {
			got, err := db.FindFolder(ctx, Mailbox, tt.key, tt.byWellKnown)
			if err != nil {
				t.Fatalf("FindFolder(%q, %v): %v", tt.key, tt.byWellKnown, err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("FindFolder(%q, %v) (-want +got):\n%s", tt.key, tt.byWellKnown, d)
			}
		}
	})

	t.Run("children", func(t *testing.T) {
		for _, tt := range []struct{ parent, want string }{
			{"", "archive inbox"}, {"root", "archive inbox"}, {"inbox", "sub"}, {"sub", ""},
		} {
			fs, err := db.Folders(ctx, Mailbox, tt.parent)
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
