package mailbox

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// fakeDirectory places addresses; a missing one is ErrUnknownRecipient.
type fakeDirectory map[string]Location

func (d fakeDirectory) Locate(_ context.Context, addr string) (Location, error) {
	if loc, ok := d[strings.ToLower(addr)]; ok {
		return loc, nil
	}
	return Location{}, ErrUnknownRecipient
}

// clock is a test clock that moves on one second per reading, so writes
// are ordered.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

var (
	alice = Ref{ID: "mbx-alice", Address: "alice@contoso.test", Database: "db1"}
	bob   = Ref{ID: "mbx-bob", Address: "bob@contoso.test", Database: "db2"}
)

// fixture is an engine over two databases: alice in db1, bob in db2, and
// carol on the other premises.
type fixture struct {
	e        *Engine
	db1, db2 store.Store
	clock    *clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	var dbs [2]store.Store
	for i := range dbs {
		db, err := sqlite.Open(filepath.Join(dir, []string{"db1", "db2"}[i]+".sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	c := &clock{t: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	e := New(Options{
		Databases: map[string]store.Store{"db1": dbs[0], "db2": dbs[1]},
		Directory: fakeDirectory{
			"alice@contoso.test":   {Local: true, Mailbox: alice},
			"bob@contoso.test":     {Local: true, Mailbox: bob},
			"robert@contoso.test":  {Local: true, Mailbox: bob}, // an alias
			"a.adams@contoso.test": {Local: true, Mailbox: alice},
			"carol@onprem.test":    {},
			"dan@onprem.test":      {},
		},
		Now: c.now,
	})
	ctx := context.Background()
	for _, r := range []struct {
		ref  Ref
		name string
	}{{alice, "Alice Adams"}, {bob, "Bob Brown"}} {
		if err := e.EnsureMailbox(ctx, r.ref, r.name); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{e: e, db1: dbs[0], db2: dbs[1], clock: c}
}

// doc decodes an item's document for checks.
func doc(t testing.TB, it store.Item) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(it.Doc, &m); err != nil {
		t.Fatalf("stored document %s: %v", it.Doc, err)
	}
	return m
}

// wantCode checks that err is an *httpserver.Error with status and code.
func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var he *httpserver.Error
	if !errors.As(err, &he) {
		t.Fatalf("got error %v, want %d %s", err, status, code)
	}
	if he.Status != status || he.Code != code {
		t.Errorf("got %d %s (%s), want %d %s", he.Status, he.Code, he.Message, status, code)
	}
}

func TestEnsureMailboxAndFolders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.e.EnsureMailbox(ctx, alice, "Alice Adams"); err != nil {
		t.Fatalf("second EnsureMailbox: %v", err)
	}

	top, err := f.e.Folders(ctx, alice, "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fl := range top {
		names = append(names, fl.DisplayName)
	}
	want := []string{"Archive", "Deleted Items", "Drafts", "Inbox", "Junk Email", "Outbox",
		"Sent Items"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("top-level folders (-want +got):\n%s", d)
	}

	root, err := f.e.Folder(ctx, alice, "MsgFolderRoot")
	if err != nil || !root.IsHidden || root.ChildFolderCount != 7 || root.ParentID != "" {
		t.Errorf("root: got %+v, %v; want hidden, 7 children, no parent", root, err)
	}
	inbox, err := f.e.Folder(ctx, alice, "Inbox")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := f.e.Folder(ctx, alice, inbox.ID)
	if err != nil || byID.WellKnown != "inbox" || byID.ParentID != root.ID {
		t.Errorf("inbox by id: got %+v, %v; want inbox under the root", byID, err)
	}
	if got, err := f.e.Folders(ctx, alice, "inbox"); err != nil || len(got) != 0 {
		t.Errorf("children of inbox: got %v, %v; want none", got, err)
	}

	tests := []struct {
		name, folder string
		status       int
		code         string
	}{
		{"well-known we lack", "clutter", 404, "ErrorItemNotFound"},
		{"unknown id", newID(), 404, "ErrorItemNotFound"},
		{"graph-style id", "AAMkAGI2TG93AAA=", 404, "ErrorItemNotFound"},
		{"malformed", "in box", 400, "ErrorInvalidIdMalformed"},
		{"other mailbox's folder", inbox.ID, 404, "ErrorItemNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := alice
			if tt.name == "other mailbox's folder" {
				ref = Ref{ID: bob.ID, Database: "db1"}
			}
			_, err := f.e.Folder(ctx, ref, tt.folder)
			wantCode(t, err, tt.status, tt.code)
		})
	}
}

const draftJSON = `{"Subject":"Quarterly report","importance":"HIGH",
	"body":{"contentType":"HTML","content":"<p>Hello   <b>world</b></p>\n<p>Second &amp; last</p>"},
	"toRecipients":[{"emailAddress":{"address":"bob@contoso.test","name":"Bob"}}],
	"categories":["Red"],"@odata.type":"#microsoft.graph.message"}`

func TestDraftLifecycle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	drafts, _ := f.e.Folder(ctx, alice, Drafts)
	deleted, _ := f.e.Folder(ctx, alice, DeletedItems)

	it, err := f.e.CreateDraft(ctx, alice, "", []byte(draftJSON))
	if err != nil {
		t.Fatal(err)
	}
	m := doc(t, it)
	checks := map[string]any{
		"subject": "Quarterly report", "importance": "high", "isDraft": true, "isRead": true,
		"parentFolderId": drafts.ID, "id": it.ID, "changeKey": it.ChangeKey,
		"bodyPreview": "Hello world Second & last", "hasAttachments": false,
		"createdDateTime": "2026-05-04T10:00:01Z", "inferenceClassification": "focused",
	}
	for k, want := range checks {
		if !cmp.Equal(m[k], want) {
			t.Errorf("%s: got %v, want %v", k, m[k], want)
		}
	}
	if body := m["body"].(map[string]any); body["contentType"] != "html" {
		t.Errorf("body contentType: got %v, want html", body["contentType"])
	}
	if _, ok := m["@odata.type"]; ok {
		t.Errorf("client annotation kept in the document")
	}
	if !wellFormedID(it.ID) || len(it.ID) != 32 || it.ChangeKey == "" {
		t.Errorf("id %q, change key %q: want a 32-character id and a change key", it.ID,
			it.ChangeKey)
	}
	checkSchemaOrder(t, it.Doc)

	got, err := f.e.Message(ctx, alice, it.ID)
	if err != nil || string(got.Doc) != string(it.Doc) {
		t.Errorf("Message: got %s, %v; want %s", got.Doc, err, it.Doc)
	}

	// PATCH with the current change key, then with the stale one.
	etag := `W/"` + it.ChangeKey + `"`
	up, err := f.e.UpdateMessage(ctx, alice, it.ID, []byte(`{"subject":"Q2 report",
		"flag":{"flagStatus":"Flagged"}}`), etag)
	if err != nil {
		t.Fatal(err)
	}
	um := doc(t, up)
	if um["subject"] != "Q2 report" || up.ChangeKey == it.ChangeKey ||
		um["flag"].(map[string]any)["flagStatus"] != "flagged" ||
		um["createdDateTime"] != m["createdDateTime"] {
		t.Errorf("after PATCH: got %s", up.Doc)
	}
	_, err = f.e.UpdateMessage(ctx, alice, it.ID, []byte(`{"isRead":false}`), etag)
	wantCode(t, err, 412, "ErrorIrresolvableConflict")
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("412 does not wrap store.ErrPreconditionFailed: %v", err)
	}

	// Delete moves to Deleted Items with the same id; again removes it.
	if err := f.e.DeleteMessage(ctx, alice, it.ID, ""); err != nil {
		t.Fatal(err)
	}
	moved, err := f.e.Message(ctx, alice, it.ID)
	if err != nil || moved.FolderID != deleted.ID || doc(t, moved)["parentFolderId"] != deleted.ID {
		t.Errorf("after delete: got %+v, %v; want it in Deleted Items", moved, err)
	}
	if err := f.e.DeleteMessage(ctx, alice, it.ID, ""); err != nil {
		t.Fatal(err)
	}
	_, err = f.e.Message(ctx, alice, it.ID)
	wantCode(t, err, 404, "ErrorItemNotFound")
}

// checkSchemaOrder checks that a document's top-level names follow
// schema.Message's property order.
func checkSchemaOrder(t *testing.T, raw []byte) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, p := range schema.Message.Props {
		pos[p.Graph] = i
	}
	last := -1
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		name := tok.(string)
		if pos[name] < last {
			t.Errorf("%s is out of schema order in %s", name, raw)
		}
		last = pos[name]
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
}

func TestClientDocumentErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"malformed JSON", `{"subject":`, 400, "RequestBodyRead"},
		{"trailing data", `{} {}`, 400, "RequestBodyRead"},
		{"not an object", `["subject"]`, 400, "RequestBodyRead"},
		{"unknown property", `{"subjekt":"x"}`, 400, "RequestBodyRead"},
		{"unknown nested property", `{"body":{"kind":"text"}}`, 400, "RequestBodyRead"},
		{"string as number", `{"subject":42}`, 400, "RequestBodyRead"},
		{"bool as string", `{"isRead":"true"}`, 400, "RequestBodyRead"},
		{"object as array", `{"from":[]}`, 400, "RequestBodyRead"},
		{"collection as object", `{"toRecipients":{"emailAddress":{}}}`, 400, "RequestBodyRead"},
		{"bad enum", `{"importance":"urgent"}`, 400, "RequestBodyRead"},
		{"read-only id", `{"id":"AAA"}`, 400, "ErrorInvalidPropertySet"},
		{"read-only isDraft", `{"IsDraft":false}`, 400, "ErrorInvalidPropertySet"},
		{"read-only bodyPreview", `{"bodyPreview":"x"}`, 400, "ErrorInvalidPropertySet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.e.CreateDraft(ctx, alice, "", []byte(tt.body))
			wantCode(t, err, tt.status, tt.code)
			d, _ := f.e.CreateDraft(ctx, alice, "", []byte(`{}`))
			_, err = f.e.UpdateMessage(ctx, alice, d.ID, []byte(tt.body), "")
			wantCode(t, err, tt.status, tt.code)
		})
	}

	var he *httpserver.Error
	_, err := f.e.CreateDraft(ctx, alice, "", []byte(`{"subjekt":"x"}`))
	if errors.As(err, &he) && !strings.HasPrefix(he.Message,
		"The property 'subjekt' does not exist on type 'microsoft.graph.message'.") {
		t.Errorf("unknown property message: got %q", he.Message)
	}

	_, err = f.e.Message(ctx, alice, "not/an id")
	wantCode(t, err, 400, "ErrorInvalidIdMalformed")
	_, err = f.e.UpdateMessage(ctx, alice, newID(), []byte(`{}`), "")
	wantCode(t, err, 404, "ErrorItemNotFound")
	wantCode(t, f.e.DeleteMessage(ctx, alice, newID(), ""), 404, "ErrorItemNotFound")
	wantCode(t, f.e.Send(ctx, alice, newID()), 404, "ErrorItemNotFound")
}

// TestSentMessageRules: after sending, DraftOnly properties are fixed but
// isRead, flag and categories still change.
func TestSentMessageRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, err := f.e.CreateDraft(ctx, alice, "", []byte(draftJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Send(ctx, alice, d.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, patch string
		code        string
	}{
		{"subject", `{"subject":"changed"}`, "ErrorInvalidPropertySet"},
		{"recipients", `{"toRecipients":[]}`, "ErrorInvalidPropertySet"},
		{"same subject", `{"subject":"Quarterly report"}`, ""},
		{"isRead", `{"isRead":false}`, ""},
		{"categories and flag", `{"categories":["Blue"],"flag":{"flagStatus":"complete"}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.e.UpdateMessage(ctx, alice, d.ID, []byte(tt.patch), "")
			if tt.code == "" {
				if err != nil {
					t.Errorf("got %v, want success", err)
				}
				return
			}
			wantCode(t, err, 400, tt.code)
		})
	}
	err = f.e.Send(ctx, alice, d.ID)
	wantCode(t, err, 400, "ErrorInvalidOperation")
}

// TestSendAcrossDatabasesAndPremises sends from alice (db1) to bob (db2,
// twice through an alias), carol (other premises), dan (other premises,
// Bcc) and an unknown address.
func TestSendAcrossDatabasesAndPremises(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, err := f.e.CreateDraft(ctx, alice, "", []byte(`{"subject":"Lunch?",
		"body":{"contentType":"text","content":"At noon."},
		"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}},
			{"emailAddress":{"address":"carol@onprem.test"}}],
		"ccRecipients":[{"emailAddress":{"address":"robert@contoso.test"}},
			{"emailAddress":{"address":"nobody@contoso.test"}}],
		"bccRecipients":[{"emailAddress":{"address":"dan@onprem.test"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Send(ctx, alice, d.ID); err != nil {
		t.Fatal(err)
	}

	// Alice's sent copy: same id, in Sent Items, from her.
	sent, err := f.e.Message(ctx, alice, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	sentItems, _ := f.e.Folder(ctx, alice, SentItems)
	sm := doc(t, sent)
	from := sm["from"].(map[string]any)["emailAddress"].(map[string]any)
	if sent.FolderID != sentItems.ID || sm["isDraft"] != false || sm["sentDateTime"] == nil ||
		from["address"] != "alice@contoso.test" || from["name"] != "Alice Adams" ||
		!strings.HasSuffix(sm["internetMessageId"].(string), "@contoso.test>") {
		t.Errorf("sent copy: got %s", sent.Doc)
	}

	// Bob got exactly one copy, unread, in his Inbox in the other database.
	inbox, err := f.e.ListMessages(ctx, bob, Inbox, store.Query{})
	if err != nil || len(inbox) != 1 {
		t.Fatalf("bob's inbox: got %d items, %v; want 1", len(inbox), err)
	}
	bm := doc(t, inbox[0])
	bfrom := bm["from"].(map[string]any)["emailAddress"].(map[string]any)
	if bm["subject"] != "Lunch?" || bm["isRead"] != false || bm["isDraft"] != false ||
		bfrom["address"] != "alice@contoso.test" || inbox[0].MailboxID != bob.ID ||
		bm["internetMessageId"] != sm["internetMessageId"] ||
		bm["conversationId"] != sm["conversationId"] {
		t.Errorf("bob's copy: got %s", inbox[0].Doc)
	}
	if bcc, _ := bm["bccRecipients"].([]any); len(bcc) != 0 {
		t.Errorf("bob sees Bcc recipients: %v", bcc)
	}
	if n, _ := f.db2.CountItems(ctx, store.Query{MailboxID: bob.ID}); n != 1 {
		t.Errorf("bob's mailbox holds %d messages, want 1", n)
	}

	// One queue entry in alice's database for both remote recipients.
	due, err := f.db1.Due(ctx, f.clock.now(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].From != "alice@contoso.test" ||
		!cmp.Equal(due[0].Recipients, []string{"carol@onprem.test", "dan@onprem.test"}) ||
		!strings.Contains(string(due[0].MIME), "Subject: Lunch?") ||
		strings.Contains(string(due[0].MIME), "dan@onprem.test") {
		t.Errorf("queue of db1: got %+v; want one entry for carol and dan, Bcc not in MIME", due)
	}
	if due, _ := f.db2.Due(ctx, f.clock.now(), 10); len(due) != 0 {
		t.Errorf("queue of db2: got %d entries, want none", len(due))
	}
}

func TestSendMail(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	msg := `{"subject":"Hi","toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]}`
	tests := []struct {
		name, doc  string
		save       bool
		status     int
		code       string
		sentCopies int
	}{
		{"saved", msg, true, 0, "", 1},
		{"not saved", msg, false, 0, "", 1},
		{"no recipients", `{"subject":"Hi"}`, true, 400, "ErrorInvalidRecipients", 1},
		{"empty address", `{"toRecipients":[{"emailAddress":{"name":"x"}}]}`, true, 400,
			"ErrorInvalidRecipients", 1},
		{"not an address", `{"toRecipients":[{"emailAddress":{"address":"bob at x"}}]}`, true,
			400, "ErrorInvalidRecipients", 1},
		{"read-only property", `{"isDraft":true}`, true, 400, "ErrorInvalidPropertySet", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.e.SendMail(ctx, alice, []byte(tt.doc), tt.save)
			if tt.code != "" {
				wantCode(t, err, tt.status, tt.code)
			} else if err != nil {
				t.Fatal(err)
			}
			n, err := f.e.CountMessages(ctx, alice, SentItems, store.Query{})
			if err != nil || n != tt.sentCopies {
				t.Errorf("sent items: got %d, %v; want %d", n, err, tt.sentCopies)
			}
		})
	}
	if n, _ := f.e.CountMessages(ctx, bob, Inbox, store.Query{}); n != 2 {
		t.Errorf("bob's inbox: got %d, want 2", n)
	}
}

const rawMessage = "From: Carol <carol@onprem.test>\r\n" +
	"To: Alice <alice@contoso.test>\r\n" +
	"Subject: RE: Lunch?\r\n" +
	"Date: Mon, 02 Mar 2026 08:30:00 +0100\r\n" +
	"Message-ID: <abc@onprem.test>\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"Sounds good.\r\n"

func TestDeliverAndImport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.e.Deliver(ctx, alice, []byte(rawMessage)); err != nil {
		t.Fatal(err)
	}
	archived, err := f.e.Import(ctx, alice, "archive", []byte(rawMessage))
	if err != nil {
		t.Fatal(err)
	}
	undated := strings.Replace(rawMessage, "Date:", "X-Old-Date:", 1)
	batch, err := f.e.ImportBatch(ctx, alice, "", [][]byte{[]byte(undated), []byte(rawMessage)})
	if err != nil {
		t.Fatal(err)
	}

	inbox, err := f.e.ListMessages(ctx, alice, "inbox", store.Query{})
	if err != nil || len(inbox) != 3 {
		t.Fatalf("inbox: got %d, %v; want 3", len(inbox), err)
	}
	// Newest first: the undated import (now), the delivery (earlier now),
	// the import dated 2 March.
	var got []string
	for _, it := range inbox {
		got = append(got, doc(t, it)["receivedDateTime"].(string))
	}
	want := []string{"2026-05-04T10:00:03Z", "2026-05-04T10:00:01Z", "2026-03-02T07:30:00Z"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("receivedDateTime, newest first (-want +got):\n%s", d)
	}
	if inbox[0].ID != batch[0].ID || inbox[2].ID != batch[1].ID {
		t.Errorf("inbox order: got %s, %s; want the batch around the delivery",
			inbox[0].ID, inbox[2].ID)
	}

	am := doc(t, archived)
	archive, _ := f.e.Folder(ctx, alice, Archive)
	if archived.FolderID != archive.ID || am["subject"] != "RE: Lunch?" ||
		am["bodyPreview"] != "Sounds good." || am["internetMessageId"] != "<abc@onprem.test>" ||
		am["isDraft"] != false {
		t.Errorf("imported: got %s", archived.Doc)
	}
	// "RE: Lunch?" threads with a "Lunch?" message.
	_, wantConv := conversationIndex("", "Lunch?", time.Time{})
	if am["conversationId"] != wantConv {
		t.Errorf("conversationId: got %v, want %v", am["conversationId"], wantConv)
	}
	raw, err := f.db1.ItemMIME(ctx, alice.ID, archived.ID)
	if err != nil || string(raw) != rawMessage {
		t.Errorf("stored MIME: got %q, %v", raw, err)
	}

	fl, _ := f.e.Folder(ctx, alice, Inbox)
	if fl.TotalItemCount != 3 || fl.UnreadItemCount != 3 {
		t.Errorf("inbox counts: got %d total, %d unread; want 3, 3", fl.TotalItemCount,
			fl.UnreadItemCount)
	}
	_, err = f.e.Import(ctx, alice, "nosuchfolder", []byte(rawMessage))
	wantCode(t, err, 404, "ErrorItemNotFound")
}

func TestListMessagesQuery(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, s := range []string{"b", "a", "c"} {
		body := `{"subject":"` + s + `"}`
		if _, err := f.e.CreateDraft(ctx, alice, "", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	q := store.Query{Where: "subject <> ?", Args: []any{"C"},
		OrderBy: []store.Order{{Column: "subject"}}, Top: 5}
	items, err := f.e.ListMessages(ctx, alice, "drafts", q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, doc(t, it)["subject"].(string))
	}
	if d := cmp.Diff([]string{"a", "b"}, got); d != "" {
		t.Errorf("filtered drafts (-want +got):\n%s", d)
	}
	if n, err := f.e.CountMessages(ctx, alice, "", q); err != nil || n != 2 {
		t.Errorf("count in mailbox: got %d, %v; want 2", n, err)
	}
}

func TestIfMatchKey(t *testing.T) {
	for in, want := range map[string]string{
		`W/"CQAAAB"`: "CQAAAB", `"CQAAAB"`: "CQAAAB", `CQAAAB`: "CQAAAB", `*`: "", ``: "",
	} {
		if got := ifMatchKey(in); got != want {
			t.Errorf("ifMatchKey(%q): got %q, want %q", in, got, want)
		}
	}
}

// FuzzClientMessage checks that the client-document reader never panics,
// and that what it accepts, once encoded, reads back to the same document.
func FuzzClientMessage(f *testing.F) {
	for _, s := range []string{draftJSON, `{}`, `{"subject":null}`, `{"flag":{"dueDateTime":
		{"dateTime":"2026-01-01T00:00:00","timeZone":"UTC"}}}`, `[1]`, `{"isRead":tru`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := clientMessage(raw)
		if err != nil {
			var he *httpserver.Error
			if !errors.As(err, &he) || he.Status != 400 {
				t.Fatalf("got %v, want a 400", err)
			}
			return
		}
		out := encode(schema.Message, m)
		again, err := clientMessage(out)
		if err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !sameJSON(m, again) {
			t.Errorf("round trip changed the document: %s", out)
		}
	})
}
