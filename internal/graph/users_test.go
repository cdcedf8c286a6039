package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

type usersFixture struct {
	iss *auth.Issuer
	srv *httptest.Server
}

var syncedAt = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newUsersFixture(t *testing.T) *usersFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	key, err := auth.LoadOrCreateKey(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	iss := &auth.Issuer{Key: key, TenantID: "tenant-1", BaseURL: "https://login.test"}
	d, err := directory.Open(filepath.Join(dir, "dir.db"), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	alice := directory.User{ObjectID: "a1", UPN: "alice@contoso.test",
		Mail: "alice@contoso.test", DisplayName: "Alice Adams", Premises: directory.Cloud,
		RecipientType: directory.UserMailbox, Database: "DB"}
	if err := d.Put(ctx, alice); err != nil {
		t.Fatal(err)
	}
	b := directory.Batch{Upserts: []directory.SourceUser{
		{ImmutableID: "imm-b", UPN: "bob@contoso.test", Mail: "bob@contoso.test",
			DisplayName: "Bob Baker", RecipientType: directory.UserMailbox},
		{ImmutableID: "imm-c", UPN: "carol@contoso.test", Mail: "carol.clark@contoso.test",
			DisplayName: "Carol Clark", RecipientType: directory.UserMailbox,
			ProxyAddresses: []string{"cc@contoso.test"}},
	}}
	if _, err := d.Apply(ctx, b, directory.SyncOptions{
		Now: func() time.Time { return syncedAt }}); err != nil {
		t.Fatal(err)
	}
	s := &Server{Directory: d, PublicURL: "https://graph.test", TenantID: "tenant-1",
		Domains: []string{"contoso.test"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth: auth.NewValidator(key, iss.IssuerURL(), "tenant-1",
			[]string{auth.GraphResource, auth.GraphAppID})}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &usersFixture{iss: iss, srv: srv}
}

func (f *usersFixture) get(t *testing.T, tok, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, body
}

func (f *usersFixture) delegated(t *testing.T, scopes ...string) string {
	t.Helper()
	tok, err := f.iss.DelegatedToken(auth.User{ObjectID: "a1", UPN: "alice@contoso.test"},
		scopes, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestGetUser(t *testing.T) {
	f := newUsersFixture(t)
	me := f.delegated(t, "User.Read")
	app, err := f.iss.AppToken(auth.App{ClientID: "app", Roles: []string{"User.Read.All"}},
		time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tok, path string
		status          int
		want            map[string]any
	}{
		{"me", me, "/v1.0/me", 200, map[string]any{
			"@odata.context": "https://graph.test/v1.0/$metadata#users/$entity",
			"id":             "a1", "displayName": "Alice Adams", "mail": "alice@contoso.test",
			"userPrincipalName": "alice@contoso.test", "businessPhones": []any{},
			"givenName": nil, "jobTitle": nil, "mobilePhone": nil, "officeLocation": nil,
			"preferredLanguage": nil, "surname": nil}},
		{"me standard properties", me, "/v1.0/me?$select=givenName,surname,jobTitle," +
			"businessPhones,accountEnabled,mailNickname,userType", 200, map[string]any{
			"@odata.context": "https://graph.test/v1.0/$metadata#users(givenName,surname," +
				"jobTitle,businessPhones,accountEnabled,mailNickname,userType)/$entity",
			"id": nil, "givenName": nil, "surname": nil, "jobTitle": nil,
			"businessPhones": []any{}, "accountEnabled": true, "mailNickname": "alice",
			"userType": "Member"}},
		{"me onPremises", me,
			"/v1.0/me?$select=id,onPremisesSyncEnabled,onPremisesLastSyncDateTime", 200,
			map[string]any{"@odata.context": "https://graph.test/v1.0/$metadata#users(" +
				"id,onPremisesSyncEnabled,onPremisesLastSyncDateTime)/$entity",
				"id": "a1", "onPremisesSyncEnabled": nil, "onPremisesLastSyncDateTime": nil}},
		{"synced user by upn", app, "/v1.0/users/carol@contoso.test?$select=" +
			"onPremisesSyncEnabled,onPremisesImmutableId,onPremisesLastSyncDateTime", 200,
			map[string]any{"@odata.context": "https://graph.test/v1.0/$metadata#users(" +
				"onPremisesSyncEnabled,onPremisesImmutableId,onPremisesLastSyncDateTime)/$entity",
				"id": nil, "onPremisesSyncEnabled": true, "onPremisesImmutableId": "imm-c",
				"onPremisesLastSyncDateTime": "2026-12-03T10:00:00Z"}},
		{"other user with User.Read", me, "/v1.0/users/bob@contoso.test", 403, nil},
		{"unknown user", app, "/v1.0/users/nobody@contoso.test", 404, nil},
		{"me as an app", app, "/v1.0/me", 400, nil},
		{"unknown property", app, "/v1.0/users/a1?$select=shoeSize", 400, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.get(t, tt.tok, tt.path)
			if status != tt.status {
				t.Fatalf("status: got %d, want %d (%v)", status, tt.status, body)
			}
			if tt.want == nil {
				return
			}
			if id, ok := body["id"]; ok && tt.want["id"] == nil {
				tt.want["id"] = id // the key comes with every $select
			}
			if diff := cmp.Diff(tt.want, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListUsers(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read.All")
	tests := []struct {
		query   string
		want    []string // userPrincipalName of each user, in order
		hasNext bool
	}{
		{"", []string{"alice@contoso.test", "bob@contoso.test", "carol@contoso.test"}, false},
		{"$filter=startswith(displayName,'c')", []string{"carol@contoso.test"}, false},
		{"$filter=mail eq 'CAROL.clark@contoso.test'", []string{"carol@contoso.test"}, false},
		{"$filter=userPrincipalName eq 'bob@contoso.test'", []string{"bob@contoso.test"},
			false},
		{"$top=2", []string{"alice@contoso.test", "bob@contoso.test"}, true},
		{"$orderby=displayName desc&$top=1", []string{"carol@contoso.test"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			path := "/v1.0/users?" + url.PathEscape(tt.query)
			status, body := f.get(t, tok, path)
			if status != 200 {
				t.Fatalf("status: got %d, want 200 (%v)", status, body)
			}
			var got []string
			for _, v := range body["value"].([]any) {
				got = append(got, v.(map[string]any)["userPrincipalName"].(string))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			next, _ := body["@odata.nextLink"].(string)
			if (next != "") != tt.hasNext {
				t.Errorf("@odata.nextLink: got %q, want one: %v", next, tt.hasNext)
			}
		})
	}
	// Pages are linked by $skiptoken, which the next page follows; a
	// client's $skip, or a token that is not ours, is refused as Graph
	// refuses it.
	_, first := f.get(t, tok, "/v1.0/users?$top=2&$select=userPrincipalName")
	next, _ := first["@odata.nextLink"].(string)
	if !strings.Contains(next, "$skiptoken=") || strings.Contains(next, "$skip=") {
		t.Fatalf("nextLink %q: want a $skiptoken and no $skip", next)
	}
	_, second := f.get(t, tok, strings.TrimPrefix(next, "https://graph.test"))
	if v, _ := second["value"].([]any); len(v) != 1 ||
		v[0].(map[string]any)["userPrincipalName"] != "carol@contoso.test" {
		t.Errorf("second page: got %v, want carol alone", second)
	}
	for _, q := range []string{"$skip=2", "$skiptoken=bm90LW91cnM", "$skiptoken="} {
		status, body := f.get(t, tok, "/v1.0/users?"+q)
		if code := body["error"].(map[string]any)["code"]; status != 400 ||
			code != "Request_BadRequest" {
			t.Errorf("%s: got %d %v, want 400 Request_BadRequest", q, status, code)
		}
	}
	if status, body := f.get(t, f.delegated(t, "User.Read"), "/v1.0/users"); status != 403 ||
		body["error"].(map[string]any)["code"] != "Authorization_RequestDenied" {
		t.Errorf("list with User.Read: got %d %v, want 403 Authorization_RequestDenied",
			status, body)
	}
	status, body := f.get(t, tok, "/v1.0/users?"+url.PathEscape("$filter=city eq 'x'"))
	if status != 400 {
		t.Errorf("filter on an unknown property: got %d, want 400 (%v)", status, body)
	}
}

func TestOrganization(t *testing.T) {
	f := newUsersFixture(t)
	status, body := f.get(t, f.delegated(t, "User.Read"), "/v1.0/organization")
	if status != 200 {
		t.Fatalf("status: got %d, want 200 (%v)", status, body)
	}
	want := map[string]any{
		"@odata.context": "https://graph.test/v1.0/$metadata#organization",
		"value": []any{map[string]any{"id": "tenant-1", "displayName": "contoso.test",
			"verifiedDomains": []any{map[string]any{"name": "contoso.test",
				"isDefault": true, "isInitial": false, "type": "Managed"}},
			"onPremisesSyncEnabled": true, "onPremisesLastSyncDateTime": "2026-12-03T10:00:00Z"}},
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("organization (-want +got):\n%s", diff)
	}
	if status, _ := f.get(t, f.delegated(t, "Mail.Read"), "/v1.0/organization"); status != 403 {
		t.Errorf("organization with Mail.Read: got %d, want 403", status)
	}
}

// errorCode is the code of a Graph error body.
func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// TestDirectoryNotFound checks the directory's answers for ids it does not
// hold, and that mail paths keep Exchange's ErrorInvalidUser.
func TestDirectoryNotFound(t *testing.T) {
	f := newUsersFixture(t)
	app, err := f.iss.AppToken(auth.App{ClientID: "app",
		Roles: []string{"User.Read.All", "Organization.Read.All", "Mail.Read"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, code, message string
		status              int
	}{
		{"/v1.0/users/nobody@contoso.test", "Request_ResourceNotFound",
			"Resource 'nobody@contoso.test' does not exist", 404},
		{"/v1.0/users('nobody@contoso.test')", "Request_ResourceNotFound",
			"Resource 'nobody@contoso.test' does not exist", 404},
		{"/v1.0/users/nobody@contoso.test/messages", "ErrorInvalidUser",
			"The requested user 'nobody@contoso.test' is invalid.", 404},
		{"/v1.0/organization/xyz", "Request_ResourceNotFound", "Resource 'xyz' does not exist",
			404},
		{"/v1.0/organization('xyz')", "Request_ResourceNotFound",
			"Resource 'xyz' does not exist", 404},
		{"/v1.0/organization/tenant-1/abc", "BadRequest",
			"Resource not found for the segment 'abc'.", 400},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body := f.get(t, app, tt.path)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if status != tt.status || errorCode(body) != tt.code ||
				!strings.HasPrefix(msg, tt.message) {
				t.Errorf("got %d %s %q, want %d %s %q...", status, errorCode(body), msg,
					tt.status, tt.code, tt.message)
			}
		})
	}

	status, body := f.get(t, app, "/v1.0/organization/TENANT-1")
	want := map[string]any{"@odata.context": "https://graph.test/v1.0/$metadata#organization/" +
		"$entity", "id": "tenant-1", "displayName": "contoso.test",
		"verifiedDomains": []any{map[string]any{"name": "contoso.test", "isDefault": true,
			"isInitial": false, "type": "Managed"}},
		"onPremisesSyncEnabled": true, "onPremisesLastSyncDateTime": "2026-12-03T10:00:00Z"}
	if status != 200 {
		t.Fatalf("organization by id: got %d, want 200 (%v)", status, body)
	}
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("organization by id (-want +got):\n%s", diff)
	}
}

// TestListUsersCount checks $count on users: @odata.count of every match,
// whatever the page, with ConsistencyLevel: eventual, and Graph's 400
// without it.
func TestListUsersCount(t *testing.T) {
	f := newUsersFixture(t)
	tok := f.delegated(t, "User.Read.All")
	tests := []struct {
		query, consistency string
		status             int
		count              any // float64 as JSON numbers decode, or nil for none
		code               string
	}{
		{"$count=true", "eventual", 200, float64(3), ""},
		{"$count=true&$top=1&$select=displayName", "Eventual", 200, float64(3), ""},
		{"$count=true&$filter=startswith(displayName,'c')", "eventual", 200, float64(1), ""},
		{"$count=false", "eventual", 200, nil, ""},
		{"$count=true", "", 400, nil, "Request_BadRequest"},
		{"$count=maybe", "eventual", 400, nil, "BadRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.query+" "+tt.consistency, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet,
				f.srv.URL+"/v1.0/users?"+url.PathEscape(tt.query), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if tt.consistency != "" {
				req.Header.Set("ConsistencyLevel", tt.consistency)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(raw, []byte(`\u0026`)) {
				t.Errorf("answer escapes '&': %s", raw)
			}
			if resp.StatusCode != tt.status || errorCode(body) != tt.code {
				t.Fatalf("got %d %q, want %d %q (%v)", resp.StatusCode, errorCode(body),
					tt.status, tt.code, body)
			}
			if got := body["@odata.count"]; got != tt.count {
				t.Errorf("@odata.count: got %v, want %v", got, tt.count)
			}
		})
	}
}
