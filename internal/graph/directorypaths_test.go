package graph

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/auth"
)

// do sends GET path with the token and headers, and returns the status,
// the Content-Type and the body.
func (f *usersFixture) do(t *testing.T, tok, path string, header map[string]string) (
	int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// errorOf is the code and message of a Graph error body.
func errorOf(b []byte) (code, message string) {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(b, &e)
	return e.Error.Code, e.Error.Message
}

// TestUserScopesAndProperties checks what each scope reads of a user:
// User.ReadBasic.All the basic profile of others (the rest null, lists
// empty, as Graph answers), the full profile of oneself; User.Read.All
// and Directory.Read.All everything.
func TestUserScopesAndProperties(t *testing.T) {
	f := newUsersFixture(t)
	const sel = "?$select=displayName,mail,onPremisesSyncEnabled,onPremisesImmutableId," +
		"onPremisesLastSyncDateTime,proxyAddresses"
	carolFull := map[string]any{"displayName": "Carol Clark",
		"mail": "carol.clark@contoso.test", "onPremisesSyncEnabled": true,
		"onPremisesImmutableId": "imm-c", "onPremisesLastSyncDateTime": "2026-12-03T10:00:00Z",
		"proxyAddresses": []any{"SMTP:carol.clark@contoso.test", "smtp:cc@contoso.test"}}
	carolBasic := map[string]any{"displayName": "Carol Clark",
		"mail": "carol.clark@contoso.test", "onPremisesSyncEnabled": nil,
		"onPremisesImmutableId": nil, "onPremisesLastSyncDateTime": nil,
		"proxyAddresses": []any{}}
	aliceFull := map[string]any{"displayName": "Alice Adams", "mail": "alice@contoso.test",
		"onPremisesSyncEnabled": nil, "onPremisesImmutableId": nil,
		"onPremisesLastSyncDateTime": nil, "proxyAddresses": []any{"SMTP:alice@contoso.test"}}
	for _, tc := range []struct {
		scope, path string
		want        map[string]any
	}{
		{"User.ReadBasic.All", "/v1.0/users/carol@contoso.test", carolBasic},
		{"User.ReadBasic.All", "/v1.0/me", aliceFull},
		{"User.ReadBasic.All", "/v1.0/users/alice@contoso.test", aliceFull},
		{"User.Read.All", "/v1.0/users/carol@contoso.test", carolFull},
		{"Directory.Read.All", "/v1.0/users/carol@contoso.test", carolFull},
		{"User.Read", "/v1.0/me", aliceFull},
	} {
		t.Run(tc.scope+" "+tc.path, func(t *testing.T) {
			status, body := f.get(t, f.delegated(t, tc.scope), tc.path+sel)
			if status != 200 {
				t.Fatalf("status: got %d, want 200 (%v)", status, body)
			}
			delete(body, "@odata.context")
			delete(body, "id")
			if diff := cmp.Diff(tc.want, body); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}

	// In a list, the caller's own entry is full and the others basic.
	status, body := f.get(t, f.delegated(t, "User.ReadBasic.All"),
		"/v1.0/users?$select=userPrincipalName,onPremisesImmutableId,proxyAddresses")
	if status != 200 {
		t.Fatalf("list: got %d, want 200 (%v)", status, body)
	}
	got := map[string]any{}
	for _, v := range body["value"].([]any) {
		u := v.(map[string]any)
		got[u["userPrincipalName"].(string)] = []any{u["onPremisesImmutableId"],
			u["proxyAddresses"]}
	}
	want := map[string]any{
		"alice@contoso.test": []any{nil, []any{"SMTP:alice@contoso.test"}},
		"bob@contoso.test":   []any{nil, []any{}},
		"carol@contoso.test": []any{nil, []any{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list with User.ReadBasic.All (-want +got):\n%s", diff)
	}
}

// TestEntityQueryOptions checks that a single user and the organisation
// serve $select and refuse every other option instead of ignoring it.
func TestEntityQueryOptions(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read", "User.Read.All")
	for _, tc := range []struct {
		path   string
		status int
		want   string // the body's @odata.context, or the error message's start
	}{
		{"/v1.0/me?$top=1", 400, "The query parameter '$top' is not supported on a user"},
		{"/v1.0/me?$filter=" + url.QueryEscape("id eq 'x'"), 400,
			"The query parameter '$filter' is not supported on a user"},
		{"/v1.0/users/bob@contoso.test?$orderby=displayName", 400,
			"The query parameter '$orderby'"},
		{"/v1.0/users/bob@contoso.test?$count=true", 400, "The query parameter '$count'"},
		{"/v1.0/me?$expand=manager", 400, "The query parameter '$expand'"},
		{"/v1.0/me?$select=displayName", 200,
			"https://graph.test/v1.0/$metadata#users(displayName)/$entity"},
		{"/v1.0/organization?$select=bogus", 400, "Could not find a property named 'bogus'"},
		{"/v1.0/organization?$filter=" + url.QueryEscape("id eq 'x'"), 400,
			"The query parameter '$filter' is not supported on the organization"},
		{"/v1.0/organization?$top=1", 400, "The query parameter '$top'"},
		{"/v1.0/organization/tenant-1?$skip=1", 400, "The query parameter '$skip'"},
		{"/v1.0/organization?$select=id,onPremisesSyncEnabled", 200,
			"https://graph.test/v1.0/$metadata#organization(id,onPremisesSyncEnabled)"},
		{"/v1.0/organization/tenant-1?$select=displayName", 200,
			"https://graph.test/v1.0/$metadata#organization(displayName)/$entity"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, body := f.get(t, tok, tc.path)
			if status != tc.status {
				t.Fatalf("status: got %d, want %d (%v)", status, tc.status, body)
			}
			if status != 200 {
				e, _ := body["error"].(map[string]any)
				if msg, _ := e["message"].(string); !strings.HasPrefix(msg, tc.want) {
					t.Errorf("message: got %q, want it to start %q", msg, tc.want)
				}
				return
			}
			if got := body["@odata.context"]; got != tc.want {
				t.Errorf("@odata.context: got %v, want %s", got, tc.want)
			}
		})
	}

	// $select narrows the organisation to the properties named (and id).
	_, body := f.get(t, tok, "/v1.0/organization/tenant-1?$select=onPremisesLastSyncDateTime")
	delete(body, "@odata.context")
	want := map[string]any{"id": "tenant-1", "onPremisesLastSyncDateTime": "2026-12-03T10:00:00Z"}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("organization $select (-want +got):\n%s", diff)
	}
}

// TestUsersAdvancedFilter checks the operators Graph serves on users only
// in advanced queries (ConsistencyLevel: eventual and $count=true), and
// those it never serves there.
func TestUsersAdvancedFilter(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read.All")
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	for _, tc := range []struct {
		filter string
		header map[string]string
		count  bool
		status int
		code   string
		users  int
	}{
		{"startswith(displayName,'b')", nil, false, 200, "", 1},
		{"mail eq 'bob@contoso.test'", nil, false, 200, "", 1},
		{"endswith(mail,'@contoso.test')", nil, false, 400, "Request_UnsupportedQuery", 0},
		{"endswith(mail,'@contoso.test')", eventual, false, 400, "Request_UnsupportedQuery", 0},
		{"endswith(mail,'@contoso.test')", nil, true, 400, "Request_UnsupportedQuery", 0},
		{"endswith(mail,'@contoso.test')", eventual, true, 200, "", 3},
		{"endswith(userPrincipalName,'b@contoso.test')", eventual, true, 200, "", 1},
		{"endswith(displayName,'s')", eventual, true, 400, "Request_UnsupportedQuery", 0},
		{"contains(displayName,'a')", eventual, true, 400, "Request_UnsupportedQuery", 0},
		{"contains(displayName,'a')", nil, false, 400, "Request_UnsupportedQuery", 0},
		{"displayName ne 'Bob Baker'", nil, false, 400, "Request_UnsupportedQuery", 0},
		{"displayName ne 'Bob Baker'", eventual, true, 200, "", 2},
		{"not(startswith(displayName,'b'))", nil, false, 400, "Request_UnsupportedQuery", 0},
		{"NOT startswith(displayName,'b')", eventual, true, 200, "", 2},
		{"displayName eq 'not ne endswith'", nil, false, 200, "", 0},
	} {
		name := tc.filter
		if tc.header != nil {
			name += " eventual"
		}
		if tc.count {
			name += " $count"
		}
		t.Run(name, func(t *testing.T) {
			q := "$filter=" + url.QueryEscape(tc.filter)
			if tc.count {
				q += "&$count=true"
			}
			status, _, b := f.do(t, tok, "/v1.0/users?"+q, tc.header)
			code, msg := errorOf(b)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %s %q, want %d %s", status, code, msg, tc.status, tc.code)
			}
			if status != 200 {
				return
			}
			var body struct{ Value []any }
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatal(err)
			}
			if len(body.Value) != tc.users {
				t.Errorf("got %d users, want %d", len(body.Value), tc.users)
			}
		})
	}
}

// TestUsersCountSegment checks GET /users/$count: a text/plain count with
// ConsistencyLevel: eventual, Graph's 400 without it.
func TestUsersCountSegment(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read.All")
	eventual := map[string]string{"ConsistencyLevel": "eventual"}
	for _, tc := range []struct {
		query  string
		header map[string]string
		status int
		want   string // the body, or the error code
	}{
		{"", eventual, 200, "3"},
		{"$filter=" + url.QueryEscape("startswith(displayName,'c')"), eventual, 200, "1"},
		{"$filter=" + url.QueryEscape("endswith(mail,'@contoso.test')"), eventual, 200, "3"},
		{"", nil, 400, "Request_BadRequest"},
		{"$top=1", eventual, 400, "BadRequest"},
		{"$filter=" + url.QueryEscape("city eq 'x'"), eventual, 400, "RequestBroker-ParseUri"},
	} {
		t.Run(tc.query+" "+tc.header["ConsistencyLevel"], func(t *testing.T) {
			status, ctype, b := f.do(t, tok, "/v1.0/users/$count?"+tc.query, tc.header)
			if status != tc.status {
				t.Fatalf("got %d %s, want %d", status, b, tc.status)
			}
			if status != 200 {
				if code, _ := errorOf(b); code != tc.want {
					t.Errorf("code: got %s, want %s (%s)", code, tc.want, b)
				}
				return
			}
			if string(b) != tc.want || !strings.HasPrefix(ctype, "text/plain") {
				t.Errorf("got %q as %s, want %q as text/plain", b, ctype, tc.want)
			}
		})
	}
}

// TestUserRelationships checks the directory relationships of users: the
// same answer for every user wherever the mailbox lives, never the mail
// API's or the hybrid router's.
func TestUserRelationships(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read.All")
	mailOnly, err := f.iss.AppToken(auth.App{ClientID: "app", Roles: []string{"Mail.Read"}},
		time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tok, path, code string
		status          int
	}{
		{tok, "/v1.0/users/alice@contoso.test/manager", "Request_ResourceNotFound", 404},
		{tok, "/v1.0/users/carol@contoso.test/manager", "Request_ResourceNotFound", 404},
		{tok, "/v1.0/me/manager", "Request_ResourceNotFound", 404},
		{tok, "/v1.0/users/carol@contoso.test/memberOf", "NotImplemented", 501},
		{tok, "/v1.0/users('bob@contoso.test')/directReports", "NotImplemented", 501},
		{mailOnly, "/v1.0/users/carol@contoso.test/manager", "Authorization_RequestDenied", 403},
		{tok, "/v1.0/beta/users/carol@contoso.test/manager", "BadRequest", 400},
		{tok, "/v1.0/users/alice@contoso.test/onenote", "BadRequest", 400},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, _, b := f.do(t, tc.tok, tc.path, nil)
			code, msg := errorOf(b)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %s %q, want %d %s", status, code, msg, tc.status, tc.code)
			}
		})
	}
}

// FuzzFilterTokens feeds any $filter to the advanced-query classifier,
// which must never panic and must keep every token inside the input.
func FuzzFilterTokens(f *testing.F) {
	f.Add("endswith(mail,'@contoso.test')")
	f.Add("not(displayName eq 'it''s') and mail ne null")
	f.Add("'unterminated")
	f.Fuzz(func(t *testing.T, src string) {
		for _, tok := range filterTokens(src) {
			if tok == "" || !strings.Contains(src, string(tok)) {
				t.Errorf("token %q not in %q", tok, src)
			}
		}
		_ = checkAdvancedFilter(src, false)
		_ = checkAdvancedFilter(src, true)
	})
}
