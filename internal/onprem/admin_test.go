package onprem

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/outlookrest"
)

// tokenAuth accepts exactly the bearer token "good".
type tokenAuth struct{}

func (tokenAuth) Authenticate(r *http.Request) (*auth.Principal, error) {
	if r.Header.Get("Authorization") != "Bearer good" {
		return nil, httpserver.Errorf(http.StatusUnauthorized, "InvalidAuthenticationToken",
			"no good token")
	}
	return &auth.Principal{Delegated: true, UPN: "admin@contoso.test"}, nil
}

func TestAdminTopology(t *testing.T) {
	ctx := context.Background()
	dir, err := directory.Open(filepath.Join(t.TempDir(), "d.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, u := range []directory.User{
		{ObjectID: "1", UPN: "carol@contoso.test", Mail: "carol@contoso.test",
			Premises: directory.OnPrem, RecipientType: directory.UserMailbox, Database: "DB16",
			MailboxGUID: "g1"},
		{ObjectID: "2", UPN: "alice@contoso.test", Mail: "alice@contoso.test",
			Premises: directory.Cloud, RecipientType: directory.RemoteUserMailbox},
	} {
		if err := dir.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	topo := &Topology{Servers: []Server{{Name: "EX16", Build: "15.1.2507.6"}},
		Databases: []Database{{Name: "DB16", Server: "EX16"}}, FrontEnd: "EX16"}
	h := &Handler{Topology: topo, Directory: dir, Log: slog.New(slog.DiscardHandler),
		REST: &outlookrest.Server{Auth: tokenAuth{}}}
	srv := httptest.NewServer(h.HTTP())
	defer srv.Close()

	for _, tc := range []struct {
		name, method, token string
		want                int
	}{
		{"no token", http.MethodGet, "", http.StatusUnauthorized},
		{"bad token", http.MethodGet, "bad", http.StatusUnauthorized},
		{"post", http.MethodPost, "good", http.StatusMethodNotAllowed},
		{"good", http.MethodGet, "good", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+AdminTopologyPath, nil)
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != http.StatusOK {
				return
			}
			var got AdminTopology
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			want := AdminTopology{Topology: *topo,
				Mailboxes: []MailboxLocation{{UPN: "carol@contoso.test", Database: "DB16",
					MailboxGUID: "g1"}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("topology (-want +got):\n%s", diff)
			}
		})
	}
}
