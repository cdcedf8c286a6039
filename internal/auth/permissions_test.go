package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

func delegated(scopes ...string) *Principal {
	return &Principal{Delegated: true, UserObjectID: testUserID, Scopes: scopes}
}

func application(roles ...string) *Principal {
	return &Principal{AppID: "app", Roles: roles}
}

// checkDenied fails unless err is a 403 ErrorAccessDenied (wantDenied) or nil.
func checkDenied(t *testing.T, err error, wantDenied bool) {
	t.Helper()
	if !wantDenied {
		if err != nil {
			t.Errorf("got %v, want access", err)
		}
		return
	}
	var e *httpserver.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *httpserver.Error", err)
	}
	if e.Status != http.StatusForbidden || e.Code != "ErrorAccessDenied" ||
		e.Message != "Access is denied. Check credentials and try again." {
		t.Errorf("got %d %s %q, want 403 ErrorAccessDenied", e.Status, e.Code, e.Message)
	}
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name   string
		p      *Principal
		perm   Permission
		denied bool
	}{
		{"delegated Mail.Read reads", delegated("User.Read", "Mail.Read"), MailRead, false},
		{"delegated ReadBasic reads", delegated("Mail.ReadBasic"), MailRead, false},
		{"delegated scope case-insensitive", delegated("mail.read"), MailRead, false},
		{"delegated Mail.Read cannot write", delegated("Mail.Read"), MailWrite, true},
		{"delegated Mail.ReadWrite cannot send", delegated("Mail.ReadWrite"), MailSend, true},
		{"delegated Mail.Send sends", delegated("Mail.Send"), MailSend, false},
		{"delegated role-named scope ignored", delegated("Mail.ReadBasic.All"), MailRead, true},
		{"app Mail.Read reads", application("Mail.Read"), MailRead, false},
		{"app ReadBasic.All reads", application("Mail.ReadBasic.All"), MailRead, false},
		{"app Mail.ReadBasic (delegated name) refused", application("Mail.ReadBasic"), MailRead, true},
		{"app with scopes only refused", &Principal{Scopes: []string{"Mail.Read"}}, MailRead, true},
		{"app no roles", application(), MailRead, true},
		{"app Calendars.ReadWrite writes events", application("Calendars.ReadWrite"), CalendarsWrite, false},
		{"delegated Contacts.Read cannot write", delegated("Contacts.Read"), ContactsWrite, true},
		{"nil principal", nil, MailRead, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDenied(t, Require(tt.p, tt.perm), tt.denied)
		})
	}
}

func TestCanAccessMailbox(t *testing.T) {
	const other = "9a9a9a9a-0000-4000-8000-000000000001"
	tests := []struct {
		name   string
		p      *Principal
		target string
		write  bool
		denied bool
	}{
		{"own mailbox read", delegated("Mail.Read"), testUserID, false, false},
		{"own mailbox, id in upper case", delegated("Mail.Read"), strings.ToUpper(testUserID),
			false, false},
		{"own mailbox write", delegated("Mail.ReadWrite"), testUserID, true, false},
		{"own mailbox write without scope", delegated("Mail.Read"), testUserID, true, true},
		{"other mailbox without Shared", delegated("Mail.ReadWrite"), other, false, true},
		{"other mailbox read with Read.Shared", delegated("Mail.Read.Shared"), other, false, false},
		{"other mailbox write with Read.Shared", delegated("Mail.Read.Shared", "Mail.ReadWrite"), other, true, true},
		{"other mailbox write with ReadWrite.Shared", delegated("Mail.ReadWrite.Shared"), other, true, false},
		{"other mailbox with Send.Shared only", delegated("Mail.Send.Shared", "Mail.Read"), other, false, true},
		{"app any mailbox", application("Mail.Read"), other, false, false},
		{"app write needs ReadWrite", application("Mail.Read"), other, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkDenied(t, CanAccessMailbox(tt.p, tt.target, tt.write), tt.denied)
		})
	}
}

func TestCanAccessSendShared(t *testing.T) {
	const other = "9a9a9a9a-0000-4000-8000-000000000001"
	checkDenied(t, CanAccess(delegated("Mail.Send.Shared"), other, MailSend), false)
	checkDenied(t, CanAccess(delegated("Mail.Send", "Mail.ReadWrite.Shared"), other, MailSend), true)
}

func TestBasicOnly(t *testing.T) {
	tests := []struct {
		p    *Principal
		want bool
	}{
		{delegated("Mail.ReadBasic"), true},
		{delegated("Mail.ReadBasic", "Mail.Read"), false},
		{delegated("Mail.ReadWrite"), false},
		{delegated("User.Read"), false},
		{application("Mail.ReadBasic.All"), true},
		{application("Mail.ReadBasic.All", "Mail.ReadWrite"), false},
	}
	for _, tt := range tests {
		if got := BasicOnly(tt.p); got != tt.want {
			t.Errorf("BasicOnly(%v %v): got %v, want %v", tt.p.Scopes, tt.p.Roles, got, tt.want)
		}
	}
}

func TestKnownRoles(t *testing.T) {
	roles := KnownRoles()
	for _, want := range []string{"Mail.Read", "Mail.ReadBasic.All", "Mail.Send", "User.Read.All"} {
		found := false
		for _, r := range roles {
			found = found || r == want
		}
		if !found {
			t.Errorf("KnownRoles lacks %s", want)
		}
	}
	for _, r := range roles {
		if r == "Mail.Read.Shared" || r == "Mail.ReadBasic" {
			t.Errorf("KnownRoles holds delegated-only %s", r)
		}
	}
}

func TestPrincipalKind(t *testing.T) {
	tests := []struct {
		name      string
		c         tokenClaims
		delegated bool
	}{
		{"scopes", tokenClaims{ObjectID: "u1", Scope: "Mail.Read"}, true},
		{"roles", tokenClaims{ObjectID: "sp1", Roles: []string{"Mail.Read"}}, false},
		{"idtyp app", tokenClaims{ObjectID: "sp1", IDType: "app"}, false},
		{"neither", tokenClaims{ObjectID: "u1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := principalOf(&tt.c)
			if p.Delegated != tt.delegated {
				t.Errorf("Delegated = %v, want %v", p.Delegated, tt.delegated)
			}
			if tt.name == "neither" {
				if err := Require(p, MailRead); err == nil {
					t.Error("a token with no scopes and no roles was allowed to read mail")
				}
			}
		})
	}
}

// TestBasicProfileOnly checks who reads only the basic profile of a user:
// a delegated caller reading another user with User.ReadBasic.All alone.
func TestBasicProfileOnly(t *testing.T) {
	const other = "other-user"
	for _, tc := range []struct {
		name   string
		p      *Principal
		target string
		want   bool
	}{
		{"basic, other", delegated("User.ReadBasic.All"), other, true},
		{"basic, self", delegated("User.ReadBasic.All"), testUserID, false},
		{"basic and User.Read, other", delegated("User.Read", "User.ReadBasic.All"), other,
			true},
		{"User.Read.All", delegated("User.ReadBasic.All", "user.read.all"), other, false},
		{"Directory.Read.All", delegated("Directory.Read.All"), other, false},
		{"User.ReadWrite.All", delegated("User.ReadWrite.All"), other, false},
		{"app", application("User.Read.All"), other, false},
		{"nobody", nil, other, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BasicProfileOnly(tc.p, tc.target); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
