package mailbox

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// deltaRound follows a delta round of folder to its end, pageSize at a
// time, and returns the pages rendered by renderPage and the state of
// the deltaLink.
func deltaRound(t *testing.T, f *fixture, folder string, from *DeltaState,
	pageSize int) ([]string, DeltaState) {
	t.Helper()
	var pages []string
	for range 50 {
		page, err := f.e.MessageDelta(context.Background(), alice, folder, from, "",
			pageSize)
		if err != nil {
			t.Fatalf("MessageDelta: %v", err)
		}
		pages = append(pages, renderPage(page))
		if !page.More {
			return pages, page.Next
		}
		// Go through the token, as a client does.
		st, err := ParseToken(EncodeToken(page.Next, SkipToken), SkipToken)
		if err != nil {
			t.Fatal(err)
		}
		from = &st
	}
	t.Fatal("delta round does not end")
	return nil, DeltaState{}
}

// renderPage writes a page's changes as subjects, "-id" for removals.
func renderPage(p DeltaPage) string {
	var out []string
	for _, c := range p.Changes {
		if c.Removed {
			out = append(out, "-"+c.ID)
			continue
		}
		subject := c.ID
		if i := strings.Index(string(c.Item.Doc), `"subject":"`); i >= 0 {
			rest := string(c.Item.Doc)[i+len(`"subject":"`):]
			subject = rest[:strings.IndexByte(rest, '"')]
		}
		out = append(out, subject)
	}
	return strings.Join(out, " ")
}

func draftIn(t *testing.T, f *fixture, folder, subject string) store.Item {
	t.Helper()
	it, err := f.e.CreateDraft(context.Background(), alice, folder,
		[]byte(`{"subject":"`+subject+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// TestMessageDelta syncs the inbox through a first round and a series of
// later rounds, each after one kind of change.
func TestMessageDelta(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var items []store.Item
	for i := range 5 {
		items = append(items, draftIn(t, f, Inbox, fmt.Sprintf("m%d", i)))
	}
	draftIn(t, f, Drafts, "elsewhere")
	gone := draftIn(t, f, Inbox, "gone before the first round")
	if err := f.e.DeleteMessage(ctx, alice, gone.ID, ""); err != nil {
		t.Fatal(err)
	}

	pages, st := deltaRound(t, f, "INBOX", nil, 2)
	want := []string{"m0 m1", "m2 m3", "m4"}
	if strings.Join(pages, "|") != strings.Join(want, "|") {
		t.Fatalf("first round: got %q, want %q", pages, want)
	}
	inbox, _ := f.e.Folder(ctx, alice, Inbox)
	moveTo := func(it store.Item, folder string) error {
		got, err := f.db1.GetItem(ctx, alice.ID, it.ID)
		if err != nil {
			return err
		}
		got.FolderID = folder
		return f.db1.UpdateItem(ctx, got, "")
	}

	tests := []struct {
		name   string
		change func() error
		want   string
	}{
		{"nothing new", func() error { return nil }, ""},
		{"new message", func() error { draftIn(t, f, Inbox, "new"); return nil }, "new"},
		{"update", func() error {
			_, err := f.e.UpdateMessage(ctx, alice, items[1].ID, []byte(`{"subject":"m1b"}`), "")
			return err
		}, "m1b"},
		{"delete moves out to Deleted Items", func() error {
			return f.e.DeleteMessage(ctx, alice, items[2].ID, "")
		}, "-" + items[2].ID},
		{"move back in", func() error { return moveTo(items[2], inbox.ID) }, "m2"},
		{"change elsewhere", func() error { draftIn(t, f, Drafts, "not here"); return nil }, ""},
		{"two changes of one message", func() error {
			if err := moveTo(items[3], "nope"); err == nil {
				t.Error("move into a missing folder: got no error")
			}
			_, err := f.e.UpdateMessage(ctx, alice, items[3].ID, []byte(`{"subject":"x"}`), "")
			if err != nil {
				return err
			}
			_, err = f.e.UpdateMessage(ctx, alice, items[3].ID, []byte(`{"subject":"y"}`), "")
			return err
		}, "y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.change(); err != nil {
				t.Fatal(err)
			}
			pages, next := deltaRound(t, f, inbox.ID, &st, 10)
			if len(pages) != 1 || pages[0] != tt.want {
				t.Errorf("round: got %q, want [%q]", pages, tt.want)
			}
			st = next
		})
	}
}

// TestMessageDeltaRemovalDuringFirstRound deletes a message the first
// round has already listed, before the round ends: the round must report
// it removed, or the client would keep it for ever.
func TestMessageDeltaRemovalDuringFirstRound(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := draftIn(t, f, Inbox, "a")
	draftIn(t, f, Inbox, "b")
	page, err := f.e.MessageDelta(ctx, alice, Inbox, nil, "", 1)
	if err != nil || renderPage(page) != "a" || !page.More {
		t.Fatalf("page 1: got %q more=%v, %v; want \"a\" and more", renderPage(page),
			page.More, err)
	}
	if err := f.e.DeleteMessage(ctx, alice, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	pages, _ := deltaRound(t, f, Inbox, &page.Next, 10)
	if got, want := strings.Join(pages, "|"), "b -"+a.ID; got != want {
		t.Errorf("rest of round: got %q, want %q", got, want)
	}
}

// TestMessageDeltaRefusesForeignState checks the state a token carries
// against the request: another mailbox or folder is 400, a state the
// mailbox database cannot continue is 410.
func TestMessageDeltaRefusesForeignState(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	draftIn(t, f, Inbox, "a")
	page, err := f.e.MessageDelta(ctx, alice, Inbox, nil, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	drafts, _ := f.e.Folder(ctx, alice, Drafts)
	edit := func(change func(*DeltaState)) *DeltaState {
		st := page.Next
		change(&st)
		return &st
	}
	tests := []struct {
		name   string
		ref    Ref
		folder string
		st     *DeltaState
		status int
		code   string
	}{
		{"other folder", alice, Drafts, &page.Next, 400, "ErrorInvalidSyncStateData"},
		{"other mailbox", bob, Inbox, &page.Next, 400, "ErrorInvalidSyncStateData"},
		{"folder id of another mailbox", alice, Inbox,
			edit(func(s *DeltaState) { s.FolderID = drafts.ID }), 400,
			"ErrorInvalidSyncStateData"},
		{"other database", alice, Inbox,
			edit(func(s *DeltaState) { s.Database = "db2" }), http.StatusGone,
			"SyncStateNotFound"},
		{"numbers ahead of the log", alice, Inbox,
			edit(func(s *DeltaState) { s.After += 5 }), http.StatusGone, "SyncStateNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.e.MessageDelta(ctx, tt.ref, tt.folder, tt.st, "", 10)
			wantCode(t, err, tt.status, tt.code)
		})
	}
}

func TestDeltaTokens(t *testing.T) {
	st := DeltaState{Database: "db1", MailboxID: "mbx", FolderID: "f/1", After: 300,
		Initial: true, Start: 7, Select: "subject,from"}
	skip := EncodeToken(st, SkipToken)
	if got, err := ParseToken(skip, SkipToken); err != nil || got != st {
		t.Fatalf("round trip: got %+v, %v; want %+v", got, err, st)
	}
	flipped := []byte(skip)
	flipped[10] ^= 1
	if flipped[10] == '.' || flipped[10] > 'z' {
		flipped[10] = 'A'
	}
	noFolder := st
	noFolder.FolderID = ""
	tests := []struct{ name, tok string }{
		{"skip token as delta token", skip},
		{"one character changed", string(flipped)},
		{"cut short", skip[:len(skip)-3]},
		{"not base64", "%%%"},
		{"empty", ""},
		{"too long", strings.Repeat("A", MaxTokenLength+1)},
		{"no folder", EncodeToken(noFolder, DeltaToken)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseToken(tt.tok, DeltaToken)
			wantCode(t, err, http.StatusBadRequest, "ErrorInvalidSyncStateData")
		})
	}
}

// FuzzParseToken checks that ParseToken never panics and that whatever it
// accepts encodes back to the same token.
func FuzzParseToken(f *testing.F) {
	f.Add(EncodeToken(DeltaState{Database: "d", MailboxID: "m", FolderID: "f", After: 1},
		DeltaToken))
	f.Add(EncodeToken(DeltaState{MailboxID: "m", FolderID: "f", Initial: true, Start: 9,
		Select: "subject"}, DeltaToken))
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, tok string) {
		st, err := ParseToken(tok, DeltaToken)
		if err != nil {
			return
		}
		if again := EncodeToken(st, DeltaToken); again != tok {
			t.Fatalf("ParseToken(%q) = %+v, which encodes as %q", tok, st, again)
		}
	})
}
