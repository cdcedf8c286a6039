package outlookrest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

type fixedAuth struct{ upn string }

func (a fixedAuth) Authenticate(*http.Request) (*auth.Principal, error) {
	return &auth.Principal{Delegated: true, UPN: a.upn, Scopes: []string{"Mail.Read"}}, nil
}

func TestTarget(t *testing.T) {
	ctx := context.Background()
	dir, err := directory.Open(filepath.Join(t.TempDir(), "d.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, u := range []directory.User{
		{ObjectID: "1", UPN: "carol@contoso.test", Mail: "carol@contoso.test",
			Premises: directory.OnPrem, RecipientType: directory.UserMailbox, Database: "DB16"},
		{ObjectID: "2", UPN: "dave@contoso.test", Mail: "dave@contoso.test",
			Premises: directory.OnPrem, RecipientType: directory.UserMailbox, Database: "DB13"},
		{ObjectID: "3", UPN: "alice@contoso.test", Mail: "alice@contoso.test",
			Premises: directory.Cloud, RecipientType: directory.RemoteUserMailbox},
	} {
		if err := dir.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{Directory: dir, PublicURL: "http://onprem",
		ServesREST: func(u directory.User) bool { return u.Database == "DB16" }}

	tests := []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"other user's mailbox", "carol@contoso.test", "/api/v2.0/users('dave@contoso.test')/messages",
			403, "ErrorAccessDenied"},
		{"unknown user", "carol@contoso.test", "/api/v2.0/users/zed@contoso.test/messages",
			404, "ErrorInvalidUser"},
		{"cloud user", "alice@contoso.test", "/api/v2.0/me/messages", 404, "ErrorInvalidUser"},
		{"no REST on the 2013 database", "dave@contoso.test", "/api/v2.0/me/messages",
			404, "MailboxNotEnabledForRESTAPI"},
		{"other version", "carol@contoso.test", "/api/v1.0/me/messages", 404, "ErrorInvalidUrl"},
		{"calendar not served", "carol@contoso.test", "/api/v2.0/me/events", 400,
			"RequestBroker-ParseUri"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.Auth = fixedAuth{tt.token}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			var e struct {
				Error map[string]any `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("not an error body: %s", rec.Body)
			}
			if rec.Code != tt.status || e.Error["code"] != tt.code {
				t.Errorf("got %d %v, want %d %s", rec.Code, e.Error["code"], tt.status, tt.code)
			}
			if _, ok := e.Error["innerError"]; ok {
				t.Error("a v2.0 error carries innerError")
			}
		})
	}
}
