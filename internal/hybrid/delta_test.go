package hybrid

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestServeMessageDelta sends Graph's messages/delta as a v2.0
// track-changes request and turns the page back into Graph's: links on
// the delta function with the tokens untouched, removals in Graph's form.
func TestServeMessageDelta(t *testing.T) {
	o := newOnPrem(t)
	rt := newRouter(o, &countingTokens{}, nil)
	onPremColl := o.srv.URL +
		"/api/v2.0/Users('alice%40contoso.test')/MailFolders('inbox')/Messages"
	graphDelta := gw + "/v1.0/users/alice@contoso.test/mailFolders/inbox/messages/delta"

	tests := []struct {
		name, url  string
		prefer     []string
		reply      string
		wantQuery  url.Values
		wantPrefer []string
		wantAnswer string
	}{{
		name:   "first page",
		url:    "/v1.0/users/alice/mailFolders/inbox/messages/delta?$select=subject",
		prefer: []string{"odata.maxpagesize=2"},
		reply: `{"@odata.context":"x","value":[
			{"@odata.type":"#Microsoft.OutlookServices.Message","@odata.etag":"W/\"CQ\"",
			 "Id":"AAMk1","Subject":"Hi"},
			{"@odata.context":"y/$deletedEntity","Id":"Messages('AAMk''2')","reason":"deleted"},
			{"@odata.type":"#Microsoft.OutlookServices.Message","Id":"AAMk3",
			 "@removed":{"reason":"deleted"}}],
			"@odata.nextLink":"` + onPremColl + `?%24skiptoken=s1"}`,
		wantQuery:  url.Values{"$select": {"Subject"}},
		wantPrefer: []string{"odata.maxpagesize=2", "odata.track-changes"},
		wantAnswer: `{"@odata.context":"http://gw.test/v1.0/$metadata#Collection(message)",
			"value":[
			{"@odata.etag":"W/\"CQ\"","@odata.type":"#microsoft.graph.message",
			 "id":"AAMk1","subject":"Hi"},
			{"@odata.type":"#microsoft.graph.message","id":"AAMk'2",
			 "@removed":{"reason":"deleted"}},
			{"@odata.type":"#microsoft.graph.message","id":"AAMk3",
			 "@removed":{"reason":"deleted"}}],
			"@odata.nextLink":"` + graphDelta + `?$skiptoken=s1"}`,
	}, {
		name:       "next round",
		url:        "/v1.0/users/alice/mailFolders/inbox/messages/delta?$deltatoken=d%2B1",
		reply:      `{"value":[],"@odata.deltaLink":"` + onPremColl + `?$deltatoken=d2"}`,
		wantQuery:  url.Values{"$deltatoken": {"d+1"}},
		wantPrefer: []string{"odata.track-changes"},
		wantAnswer: `{"@odata.context":"http://gw.test/v1.0/$metadata#Collection(message)",
			"value":[],"@odata.deltaLink":"` + graphDelta + `?$deltatoken=d2"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o.set(reply{status: 200, body: tt.reply})
			rec := callPrefer(rt, tt.url, tt.prefer)
			if rec.Code != http.StatusOK {
				t.Fatalf("status: got %d, want 200: %s", rec.Code, rec.Body)
			}
			got := o.last(t)
			want := "/api/v2.0/users('alice@contoso.test')/MailFolders/inbox/Messages"
			if got.path != want {
				t.Errorf("on-prem path: got %q, want %q", got.path, want)
			}
			if !cmp.Equal(got.query, tt.wantQuery) || !cmp.Equal(got.prefer, tt.wantPrefer) {
				t.Errorf("on-prem query, Prefer: got %v, %q; want %v, %q", got.query,
					got.prefer, tt.wantQuery, tt.wantPrefer)
			}
			jsonEqual(t, rec.Body.String(), tt.wantAnswer)
		})
	}
}

// callPrefer is call with Prefer headers, for GET.
func callPrefer(rt *Router, rawURL string, prefer []string) *httptest.ResponseRecorder {
	return callWith(rt, alice, http.MethodGet, rawURL, "", http.Header{"Prefer": prefer})
}

// FuzzDeltaPage checks that deltaPage never panics and that what it
// returns is JSON whose entries carry no v2.0 deleted-entity form.
func FuzzDeltaPage(f *testing.F) {
	f.Add(`{"value":[{"id":"a","reason":"deleted"},{"id":"b","subject":"<p>&"}]}`)
	f.Add(`{"value":[{"id":"Messages('a''b')","reason":"deleted"}],"@odata.deltaLink":"x"}`)
	f.Add(`{"value":null}`)
	f.Fuzz(func(t *testing.T, body string) {
		out, err := deltaPage([]byte(body), "ctx")
		if err != nil {
			return
		}
		var page struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			t.Fatalf("deltaPage(%q) = %q: %v", body, out, err)
		}
		for _, e := range page.Value {
			if _, ok := e["reason"]; ok && e["@removed"] == nil {
				if _, isID := e["id"].(string); isID {
					t.Fatalf("deltaPage(%q) kept a v2.0 removal: %v", body, e)
				}
			}
		}
	})
}
