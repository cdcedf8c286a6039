package mailapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

var (
	alice = mailbox.Ref{ID: "mbx-alice", Address: "alice@contoso.test", Database: "db1"}
	bob   = mailbox.Ref{ID: "mbx-bob", Address: "bob@contoso.test", Database: "db1"}
)

// deltaFixture serves the Graph face over one database holding alice's
// and bob's mailboxes: /v1.0/me/... is alice, /v1.0/users/bob/... bob.
type deltaFixture struct {
	srv *httptest.Server
	e   *mailbox.Engine
	db  store.Store
}

func newDeltaFixture(t *testing.T) *deltaFixture {
	t.Helper()
	return newFaceFixture(t, schema.Graph)
}

// newFaceFixture serves the face of dialect d: Graph under /v1.0, Outlook
// REST under /api/v2.0.
func newFaceFixture(t *testing.T, d schema.Dialect) *deltaFixture {
	t.Helper()
	prefix := "/v1.0"
	if d == schema.REST {
		prefix = "/api/v2.0"
	}
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "db1.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := mailbox.New(mailbox.Options{Databases: map[string]store.Store{"db1": db}})
	for _, ref := range []mailbox.Ref{alice, bob} {
		if err := e.EnsureMailbox(context.Background(), ref, ref.Address); err != nil {
			t.Fatal(err)
		}
	}
	f := &deltaFixture{e: e, db: db}
	face := &Face{Dialect: d, Engine: e}
	f.srv = httptest.NewServer(httpserver.Handle(httpserver.GraphEnvelope,
		func(w http.ResponseWriter, r *http.Request) error {
			segs, err := SplitPath(strings.TrimPrefix(r.URL.EscapedPath(), prefix))
			if err != nil {
				return err
			}
			key, _, rest, _ := UserKey(segs)
			ref := alice
			if key == "bob" {
				ref = bob
			}
			return face.Serve(&Call{W: w, R: r, Mailbox: ref, Path: rest,
				ContextBase: f.srv.URL + prefix + "/$metadata#users('" + ref.ID + "')",
				Authorize:   func(Op) error { return nil },
				RequestURL:  AbsoluteURL(f.srv.URL, r)})
		}))
	t.Cleanup(f.srv.Close)
	return f
}

type deltaAnswer struct {
	status  int
	header  http.Header
	body    map[string]any
	entries []string // subjects, or "-id" for removals
}

// get calls url (absolute, or a path under /v1.0) with Prefer values.
func (f *deltaFixture) get(t *testing.T, url string, prefer ...string) deltaAnswer {
	t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = f.srv.URL + "/v1.0" + url
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prefer {
		req.Header.Add("Prefer", p)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := deltaAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	values, _ := a.body["value"].([]any)
	for _, v := range values {
		m := v.(map[string]any)
		_, removed := m["@removed"]
		id, _ := m["id"].(string)
		if m["reason"] == "deleted" {
			removed = true // the v2.0 form
			id, _ = m["Id"].(string)
		}
		if removed {
			a.entries = append(a.entries, "-"+id)
			continue
		}
		s, _ := m["subject"].(string)
		if s == "" {
			s, _ = m["Subject"].(string)
		}
		a.entries = append(a.entries, s)
	}
	return a
}

// round follows nextLinks from url to the deltaLink; it returns the
// entries of every page and the deltaLink.
func (f *deltaFixture) round(t *testing.T, url string, prefer ...string) ([]string, string) {
	t.Helper()
	var all []string
	for range 50 {
		a := f.get(t, url, prefer...)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %v", url, a.status, a.body)
		}
		all = append(all, a.entries...)
		if next, ok := a.body["@odata.nextLink"].(string); ok {
			if !strings.Contains(next, "$skiptoken=") {
				t.Fatalf("nextLink %q has no $skiptoken", next)
			}
			url = next
			continue
		}
		delta, _ := a.body["@odata.deltaLink"].(string)
		if !strings.Contains(delta, "/messages/delta?$deltatoken=") &&
			!strings.Contains(delta, "/api/v2.0/me/MailFolders/Inbox/messages?$deltatoken=") {
			t.Fatalf("last page: deltaLink %q, want one with $deltatoken", delta)
		}
		return all, delta
	}
	t.Fatal("round does not end")
	return nil, ""
}

func (f *deltaFixture) create(t *testing.T, ref mailbox.Ref, folder, subject string) string {
	t.Helper()
	it, err := f.e.CreateDraft(context.Background(), ref, folder,
		[]byte(`{"subject":"`+subject+`","body":{"contentType":"text","content":"hi"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return it.ID
}

func TestMessageDeltaOverHTTP(t *testing.T) {
	f := newDeltaFixture(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, s := range []string{"a", "b", "c"} {
		ids[s] = f.create(t, alice, "inbox", s)
	}

	// The first round, two at a time, with $select carried by the links.
	first := f.get(t, "/me/mailFolders/Inbox/messages/delta?$select=subject",
		"odata.maxpagesize=2")
	wantApplied := "odata.track-changes, odata.maxpagesize=2"
	if got := first.header.Values("Preference-Applied"); !cmp.Equal(got, []string{wantApplied}) {
		t.Errorf("Preference-Applied: got %q, want %q", got, wantApplied)
	}
	wantContext := f.srv.URL + "/v1.0/$metadata#Collection(message)"
	if got, want := first.body["@odata.context"], wantContext; got != want {
		t.Errorf("@odata.context: got %v, want %v", got, want)
	}
	v := first.body["value"].([]any)[0].(map[string]any)
	if _, ok := v["body"]; ok || v["id"] != ids["a"] {
		t.Errorf("selected entry: got %v, want id and subject only", v)
	}
	entries, delta := f.round(t, first.body["@odata.nextLink"].(string), "odata.maxpagesize=2")
	if got := append(first.entries, entries...); !cmp.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("first round: got %q, want a b c", got)
	}

	inbox, err := f.e.Folder(ctx, alice, "inbox")
	if err != nil {
		t.Fatal(err)
	}
	moveBack := func(id string) {
		it, err := f.db.GetItem(ctx, alice.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		it.FolderID = inbox.ID
		if err := f.db.UpdateItem(ctx, it, ""); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		change func()
		want   []string
	}{
		{"new message", func() { ids["d"] = f.create(t, alice, "inbox", "d") }, []string{"d"}},
		{"update", func() {
			_, err := f.e.UpdateMessage(ctx, alice, ids["a"], []byte(`{"subject":"a2"}`), "")
			if err != nil {
				t.Fatal(err)
			}
		}, []string{"a2"}},
		{"delete (moved out)", func() {
			if err := f.e.DeleteMessage(ctx, alice, ids["b"], ""); err != nil {
				t.Fatal(err)
			}
		}, []string{"-" + ids["b"]}},
		{"moved back in", func() { moveBack(ids["b"]) }, []string{"b"}},
		{"other mailbox", func() { f.create(t, bob, "inbox", "bob's") }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.change()
			got, next := f.round(t, delta)
			if !cmp.Equal(got, tt.want) {
				t.Errorf("round: got %q, want %q", got, tt.want)
			}
			delta = next
		})
	}

	// b went through Deleted Items before its first round: not listed.
	// A message created there and deleted for good is a removal, shaped
	// as Graph shapes it.
	entries, deletedLink := f.round(t, "/me/mailFolders/deleteditems/messages/delta")
	if len(entries) != 0 {
		t.Errorf("first round of Deleted Items: got %q, want nothing", entries)
	}
	gone := f.create(t, alice, "deleteditems", "x")
	if err := f.e.DeleteMessage(ctx, alice, gone, ""); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"@odata.type": "#microsoft.graph.message", "id": gone,
		"@removed": map[string]any{"reason": "deleted"}}}
	if got := f.get(t, deletedLink).body["value"]; !cmp.Equal(got, any(want)) {
		t.Errorf("removed entry: got %v, want %v", got, want)
	}
}

func TestMessageDeltaErrors(t *testing.T) {
	f := newDeltaFixture(t)
	first := f.get(t, "/me/mailFolders/inbox/messages/delta")
	delta := first.body["@odata.deltaLink"].(string)
	_, tok, _ := strings.Cut(delta, "$deltatoken=")
	bobDelta := f.get(t, "/users/bob/mailFolders/inbox/messages/delta").
		body["@odata.deltaLink"].(string)
	_, bobTok, _ := strings.Cut(bobDelta, "$deltatoken=")

	tests := []struct {
		name, method, path string
		status             int
		code               string
	}{
		{"token of another mailbox", "GET",
			"/me/mailFolders/inbox/messages/delta?$deltatoken=" + bobTok, 400,
			"ErrorInvalidSyncStateData"},
		{"token of another folder", "GET",
			"/me/mailFolders/drafts/messages/delta?$deltatoken=" + tok, 400,
			"ErrorInvalidSyncStateData"},
		{"delta token as skip token", "GET",
			"/me/mailFolders/inbox/messages/delta?$skiptoken=" + tok, 400,
			"ErrorInvalidSyncStateData"},
		{"garbage", "GET", "/me/mailFolders/inbox/messages/delta?$deltatoken=abc", 400,
			"ErrorInvalidSyncStateData"},
		{"two tokens", "GET", "/me/mailFolders/inbox/messages/delta?$deltatoken=" + tok +
			"&$skiptoken=" + tok, 400, "ErrorInvalidUrlQuery"},
		{"$select with a token", "GET", "/me/mailFolders/inbox/messages/delta?$deltatoken=" +
			tok + "&$select=subject", 400, "ErrorInvalidUrlQuery"},
		{"$filter", "GET", "/me/mailFolders/inbox/messages/delta?$filter=isRead", 400,
			"ErrorInvalidUrlQuery"},
		{"changeType", "GET", "/me/mailFolders/inbox/messages/delta?changeType=created", 400,
			"ErrorInvalidUrlQuery"},
		{"other parameter with a token", "GET",
			"/me/mailFolders/inbox/messages/delta?$deltatoken=" + tok + "&changeType=deleted",
			400, "ErrorInvalidUrlQuery"},
		{"whole mailbox", "GET", "/me/messages/delta", 400, "ErrorInvalidUrlQuery"},
		{"unknown folder", "GET", "/me/mailFolders/nothere/messages/delta", 404,
			"ErrorItemNotFound"},
		{"POST", "POST", "/me/mailFolders/inbox/messages/delta", 405, "ErrorInvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, f.srv.URL+"/v1.0"+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error struct{ Code string } }
			json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status || body.Error.Code != tt.code {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, body.Error.Code, tt.status,
					tt.code)
			}
		})
	}
}

func TestMaxPageSize(t *testing.T) {
	tests := []struct {
		prefer  []string
		size    int
		applied bool
	}{
		{nil, mailbox.DefaultDeltaPageSize, false},
		{[]string{"odata.maxpagesize=3"}, 3, true},
		{[]string{`outlook.body-content-type="text", odata.maxpagesize=7`}, 7, true},
		{[]string{"odata.track-changes", "ODATA.MAXPAGESIZE = 4"}, 4, true},
		{[]string{"odata.maxpagesize=0"}, mailbox.DefaultDeltaPageSize, false},
		{[]string{"odata.maxpagesize=x"}, mailbox.DefaultDeltaPageSize, false},
		{[]string{"odata.maxpagesize=99999"}, mailbox.MaxDeltaPageSize, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.prefer, "|"), func(t *testing.T) {
			size, applied := maxPageSize(http.Header{"Prefer": tt.prefer})
			if size != tt.size || applied != tt.applied {
				t.Errorf("got %d, %v; want %d, %v", size, applied, tt.size, tt.applied)
			}
		})
	}
}

// TestTrackChangesOverREST syncs a folder on the Outlook REST v2.0 face:
// Prefer: odata.track-changes on the messages collection, the same
// tokens on the collection's URL, removals in the OData 4.0 form. Without
// the preference the collection is a plain list.
func TestTrackChangesOverREST(t *testing.T) {
	f := newFaceFixture(t, schema.REST)
	ctx := context.Background()
	a := f.create(t, alice, "inbox", "a")
	f.create(t, alice, "inbox", "b")
	list := f.srv.URL + "/api/v2.0/me/MailFolders/Inbox/messages?$select=Subject"

	plain := f.get(t, list+"&$top=1")
	if _, ok := plain.body["@odata.deltaLink"]; ok || plain.header.Get("Preference-Applied") != "" {
		t.Errorf("plain list: got a delta answer %v", plain.body)
	}
	first := f.get(t, list, "odata.track-changes", "odata.maxpagesize=1")
	if got := first.header.Get("Preference-Applied"); got !=
		"odata.track-changes, odata.maxpagesize=1" {
		t.Errorf("Preference-Applied: got %q", got)
	}
	next, _ := first.body["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, f.srv.URL+"/api/v2.0/me/MailFolders/Inbox/messages?$skiptoken=") {
		t.Fatalf("nextLink: got %q, want the collection with $skiptoken", next)
	}
	entries, delta := f.round(t, next, "odata.track-changes")
	if got := append(first.entries, entries...); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("first round: got %q, want a b", got)
	}

	if err := f.e.DeleteMessage(ctx, alice, a, ""); err != nil {
		t.Fatal(err)
	}
	// A client following the deltaLink without the preference still
	// gets changes: the token says what the request is.
	got := f.get(t, delta)
	v, _ := got.body["value"].([]any)
	wantRemoved := map[string]any{"Id": a, "reason": "deleted", "@odata.context": f.srv.URL +
		"/api/v2.0/$metadata#users('" + alice.ID + "')/MailFolders('Inbox')/messages/$deletedEntity"}
	if len(v) != 1 || !cmp.Equal(v[0], any(wantRemoved)) {
		t.Errorf("removal: got %v, want [%v]", v, wantRemoved)
	}
}
