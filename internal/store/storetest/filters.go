package storetest

import (
	"context"
	"net/url"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// testODataFilters runs $filter and $orderby compiled by package odata, as
// the engine does: the SQL it writes must run on the backend and select
// the same items everywhere.
func testODataFilters(t *testing.T, db store.Store) {
	Seed(t, db)
	docs := []map[string]any{
		{"id": "f1", "subject": "100% sure", "isRead": true, "importance": "high",
			"receivedDateTime": "2026-03-01T09:00:00Z",
			"from": map[string]any{"emailAddress": map[string]any{
				"address": "Ann@Fabrikam.test", "name": "Ann"}}},
		{"id": "f2", "subject": "100 percent", "isRead": false, "importance": "low",
			"receivedDateTime": "2026-03-02T09:00:00Z",
			"flag":             map[string]any{"flagStatus": "flagged"}},
		{"id": "f3", "subject": "it's_done", "isRead": false, "importance": "normal",
			"receivedDateTime": "2026-03-03T09:00:00.5Z",
			"from": map[string]any{"emailAddress": map[string]any{
				"address": "bob@contoso.test", "name": "Bob ? Q"}}},
		{"id": "f4", "subject": `back\slash`, "isDraft": true},
	}
	var items []store.Item
	for _, d := range docs {
		items = append(items, item(d["id"].(string), "inbox", d))
	}
	if err := db.InsertItems(context.Background(), items...); err != nil {
		t.Fatal(err)
	}

	tests := []struct{ filter, orderby, want string }{
		{"isRead", "", "f1"},
		{"not isRead", "", "f2 f3 f4"},
		{"subject eq '100% SURE'", "", "f1"},
		{"startswith(subject, '100%')", "", "f1"},
		{"startswith(subject, '100')", "", "f1 f2"},
		{"contains(subject, 'PERCENT')", "", "f2"},
		{"contains(subject, '_')", "", "f3"},
		{"contains(subject, 't''s')", "", "f3"},
		{`contains(subject, '\')`, "", "f4"},
		{"endswith(subject, 'DONE')", "", "f3"},
		{"not contains(subject, '100')", "", "f3 f4"},
		{"from/emailAddress/address eq 'ann@fabrikam.test'", "", "f1"},
		{"from/emailAddress/name eq 'Bob ? Q'", "", "f3"},
		{"from/emailAddress/address ne 'ann@fabrikam.test'", "", "f2 f3 f4"},
		{"importance in ('High', 'low')", "", "f1 f2"},
		{"importance eq 'normal' or flag/flagStatus eq 'flagged'", "", "f2 f3"},
		{"receivedDateTime ge 2026-03-02", "receivedDateTime desc", "f3 f2"},
		{"receivedDateTime gt 2026-03-02T09:00:00Z", "", "f3"},
		{"receivedDateTime lt 2026-03-03T09:00:00.1Z", "", "f1 f2 f3"},
		{"receivedDateTime eq null", "", "f4"},
		{"isDraft eq true and subject ne 'x'", "", "f4"},
		{"true", "subject", "f2 f1 f4 f3"},
		{"", "from/emailAddress/address desc", "f3 f1 f4 f2"},
		{"", "isRead desc,subject", "f1 f2 f3 f4"},
	}
	for _, tt := range tests {
		t.Run(tt.filter+" by "+tt.orderby, func(t *testing.T) {
			v := url.Values{}
			if tt.filter != "" {
				v.Set("$filter", tt.filter)
			}
			if tt.orderby != "" {
				v.Set("$orderby", tt.orderby)
			}
			oq, err := odata.Parse(v, schema.Message, schema.Graph, odata.Limits{})
			if err != nil {
				t.Fatalf("odata.Parse: %v", err)
			}
			q := oq.Store
			q.MailboxID, q.FolderID, q.Top = Mailbox, "inbox", 0
			if len(q.OrderBy) == 0 {
				q.OrderBy = []store.Order{{Column: "id"}}
			}
			got, err := db.ListItems(context.Background(), q)
			if err != nil {
				t.Fatalf("ListItems(%q %v): %v", q.Where, q.Args, err)
			}
			if g := ids(got); g != tt.want {
				t.Errorf("%q %v: got %q, want %q", q.Where, q.Args, g, tt.want)
			}
		})
	}
}
