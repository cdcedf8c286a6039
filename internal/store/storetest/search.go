package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// searchDocs are the messages of testSearch: each field holds words the
// cases look for, and the HTML body has words only in its markup.
func searchDocs() []store.Item {
	who := func(name, addr string) map[string]any {
		return map[string]any{"emailAddress": map[string]any{"name": name, "address": addr}}
	}
	at := func(h int) string { return schema.FormatTime(T0.Add(time.Duration(h) * time.Hour)) }
	text := func(s string) map[string]any {
		return map[string]any{"contentType": "text", "content": s}
	}
	docs := []map[string]any{
		{"id": "s1", "subject": "Pizza party on Friday", "isRead": true, "sentDateTime": at(1),
			"from":         who("Ann Lee", "ann@fabrikam.test"),
			"toRecipients": []any{who("", "bob@contoso.test")},
			"body":         text("Bring drinks and snacks.")},
		{"id": "s2", "subject": "Quarterly report", "isRead": false, "sentDateTime": at(2),
			"from":         who("Bob", "bob@contoso.test"),
			"ccRecipients": []any{who("Pizza Team", "pizza@contoso.test")},
			"body": map[string]any{"contentType": "html", "content": `<html><body>` +
				`<div class="pizzeria" title="secret">Numbers for Q3 are in</div></body></html>`}},
		{"id": "s3", "subject": "Café meeting", "isRead": false, "sentDateTime": at(3),
			"from":          who("Zoë Müller", "zoe@example.test"),
			"bccRecipients": []any{who("", "carol@contoso.test")},
			"body":          text("Agenda: pizza party planning")},
		{"id": "s4", "subject": "pizza", "isRead": false, "sentDateTime": at(4),
			"parentFolderId": "archive"},
		{"id": "s5", "subject": "Re: party", "isRead": false, "sentDateTime": at(5),
			"toRecipients": []any{who("Ann Lee", "ann@fabrikam.test")},
			"body":         text("no food, sorry")},
	}
	var items []store.Item
	for _, d := range docs {
		folder, ok := d["parentFolderId"].(string)
		if !ok {
			folder = "inbox"
		}
		items = append(items, item(d["id"].(string), folder, d))
	}
	return items
}

// testSearch checks Query.Search: the same query selects the same items,
// in the query's order, on every backend, and writes keep the index in
// step.
func testSearch(t *testing.T, db store.Store) {
	ctx := context.Background()
	Seed(t, db)
	if err := db.InsertItems(ctx, searchDocs()...); err != nil {
		t.Fatal(err)
	}
	sent := []store.Order{{Column: "sent", Desc: true}}
	s := func(search string) store.Query { return store.Query{Search: search, OrderBy: sent} }
	checkList(t, db, []listCase{
		{"word in subject, from or body", s("pizza"), "s4 s3 s1", 3},
		{"case", s("PIZZA"), "s4 s3 s1", 3},
		{"in a folder", store.Query{Search: "pizza", FolderID: "inbox", OrderBy: sent},
			"s3 s1", 2},
		{"with where", store.Query{Search: "pizza", Where: "is_read = ?", Args: []any{true},
			OrderBy: sent}, "s1", 1},
		{"paged", store.Query{Search: "pizza", OrderBy: sent, Skip: 1, Top: 1}, "s3", 3},
		{"whole words", s("pizz"), "", 0},
		{"prefix", s("pizz*"), "s4 s3 s1", 3},
		{"phrase", s(`"pizza party"`), "s3 s1", 2},
		{"phrase order", s(`"party pizza"`), "", 0},
		{"phrase prefix", s(`subject:"pizza par"*`), "s1", 1},
		{"terms are ANDed", s("pizza party"), "s3 s1", 2},
		{"explicit AND", s("pizza AND party"), "s3 s1", 2},
		{"OR", s("pizza OR report"), "s4 s3 s2 s1", 4},
		{"NOT", s("pizza NOT party"), "s4", 1},
		{"groups", s("(pizza OR report) AND NOT friday"), "s4 s3 s2", 3},
		{"subject", s("subject:pizza"), "s4 s1", 2},
		{"body", s("body:pizza"), "s3", 1},
		{"from address", s("from:ann@fabrikam.test"), "s1", 1},
		{"from name", s("FROM:Lee"), "s1", 1},
		{"to", s("to:ann"), "s5", 1},
		{"cc is not a default field", s("cc:pizza"), "s2", 1},
		{"bcc", s("bcc:carol"), "s3", 1},
		{"to is not bcc", s("to:carol"), "", 0},
		{"recipients", s("recipients:carol"), "s3", 1},
		{"participants", s("participants:ann"), "s5 s1", 2},
		{"diacritics", s("cafe"), "s3", 1},
		{"diacritics in the query", s("müller"), "s3", 1},
		{"html text", s("numbers q3"), "s2", 1},
		{"html markup is not text", s("pizzeria OR secret OR div"), "", 0},
		{"address words, default fields", s("contoso.test"), "s2", 1},
		{"address words, participants", s("participants:contoso.test"), "s3 s2 s1", 3},
		{"address words in order", s("participants:test.contoso"), "", 0},
	})
	testSearchWrites(t, db, s("pizza"))
	for _, bad := range []string{"NOT pizza", "(pizza", "pizza OR", "size:10", "!!"} {
		_, err := db.ListItems(ctx, store.Query{MailboxID: Mailbox, Search: bad})
		if !errors.Is(err, store.ErrSearchSyntax) {
			t.Errorf("search %q: got %v, want ErrSearchSyntax", bad, err)
		}
		_, err = db.CountItems(ctx, store.Query{MailboxID: Mailbox, Search: bad})
		if !errors.Is(err, store.ErrSearchSyntax) {
			t.Errorf("count %q: got %v, want ErrSearchSyntax", bad, err)
		}
	}
}

// testSearchWrites checks that an update and a delete reach the index.
func testSearchWrites(t *testing.T, db store.Store, pizza store.Query) {
	ctx := context.Background()
	renamed := item("s4", "archive", map[string]any{"id": "s4", "subject": "Calzone",
		"sentDateTime": schema.FormatTime(T0)})
	if err := db.UpdateItem(ctx, renamed, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteItem(ctx, Mailbox, "s3"); err != nil {
		t.Fatal(err)
	}
	// A write that leaves the words alone (a flag) must keep the item found.
	flagged := searchDocs()[0]
	flagged.Doc = []byte(strings.Replace(string(flagged.Doc), `"isRead":true`,
		`"isRead":false`, 1))
	if err := db.UpdateItem(ctx, flagged, ""); err != nil {
		t.Fatal(err)
	}
	calzone := pizza
	calzone.Search = "calzone"
	checkList(t, db, []listCase{
		{"after update and delete", pizza, "s1", 1},
		{"new subject", calzone, "s4", 1},
		{"after a flag", store.Query{Search: "friday", Where: "is_read = ?",
			Args: []any{false}}, "s1", 1},
	})
}
