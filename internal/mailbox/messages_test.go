package mailbox

import (
	"context"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// TestSenderFixedOnReceived: from and sender change only on a draft.
func TestSenderFixedOnReceived(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.e.Deliver(ctx, alice, []byte(rawMessage)); err != nil {
		t.Fatal(err)
	}
	inbox, err := f.e.ListMessages(ctx, alice, Inbox, store.Query{})
	if err != nil || len(inbox) != 1 {
		t.Fatalf("inbox: got %d, %v", len(inbox), err)
	}
	received := inbox[0].ID
	draft, err := f.e.CreateDraft(ctx, alice, "", []byte(draftJSON))
	if err != nil {
		t.Fatal(err)
	}
	bobAsRecipient := `{"emailAddress":{"name":"Bob","address":"bob@contoso.test"}}`
	carol := `{"emailAddress":{"name":"Carol","address":"carol@onprem.test"}}`
	tests := []struct {
		name, id, patch string
		code            string
	}{
		{"from of received", received, `{"from":` + bobAsRecipient + `}`,
			"ErrorInvalidPropertySet"},
		{"sender of received", received, `{"sender":` + bobAsRecipient + `}`,
			"ErrorInvalidPropertySet"},
		{"null from of received", received, `{"from":null}`, "ErrorInvalidPropertySet"},
		{"same from of received", received, `{"from":` + carol + `}`, ""},
		{"isRead of received", received, `{"isRead":true}`, ""},
		{"from of draft", draft.ID, `{"from":` + bobAsRecipient + `}`, ""},
		{"sender of draft", draft.ID, `{"sender":` + bobAsRecipient + `}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.e.UpdateMessage(ctx, alice, tt.id, []byte(tt.patch), "")
			if tt.code == "" {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				return
			}
			wantCode(t, err, 400, tt.code)
		})
	}
	got, err := f.e.Message(ctx, alice, received)
	if err != nil || address(doc(t, got)["from"]) != "carol@onprem.test" {
		t.Errorf("received message's from: got %v, %v; want carol", doc(t, got)["from"], err)
	}
}

// TestDeleteIfMatch: DELETE with a stale If-Match is 412 and keeps the
// message; a current or wildcard one deletes, in both steps of delete.
func TestDeleteIfMatch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	deleted, err := f.e.Folder(ctx, alice, DeletedItems)
	if err != nil {
		t.Fatal(err)
	}
	it, err := f.e.CreateDraft(ctx, alice, "", []byte(draftJSON))
	if err != nil {
		t.Fatal(err)
	}
	stale := `W/"` + it.ChangeKey + `"`
	if it, err = f.e.UpdateMessage(ctx, alice, it.ID, []byte(`{"isRead":false}`), ""); err != nil {
		t.Fatal(err)
	}
	current := `W/"` + it.ChangeKey + `"`

	steps := []struct {
		name, ifMatch string
		code          string
		wantFolder    string // "" when the message must be gone
	}{
		{"stale, first delete", stale, "ErrorIrresolvableConflict", it.FolderID},
		{"bare stale key", it.ChangeKey + "x", "ErrorIrresolvableConflict", it.FolderID},
		{"current, first delete", current, "", deleted.ID},
		{"stale, in Deleted Items", current, "ErrorIrresolvableConflict", deleted.ID},
		{"wildcard, in Deleted Items", "*", "", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := f.e.DeleteMessage(ctx, alice, it.ID, st.ifMatch)
			if st.code != "" {
				wantCode(t, err, 412, st.code)
			} else if err != nil {
				t.Fatalf("got %v, want success", err)
			}
			got, err := f.e.Message(ctx, alice, it.ID)
			switch {
			case st.wantFolder == "":
				wantCode(t, err, 404, "ErrorItemNotFound")
			case err != nil || got.FolderID != st.wantFolder:
				t.Errorf("got folder %q, %v; want %q", got.FolderID, err, st.wantFolder)
			}
		})
	}
}
