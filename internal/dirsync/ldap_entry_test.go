package dirsync

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

func TestSourceUser(t *testing.T) {
	e := ldap.NewEntry("cn=carol,dc=contoso,dc=test", map[string][]string{
		"entryUUID":                  {"00112233-4455-6677-8899-aabbccddeeff"},
		"userPrincipalName":          {"carol@contoso.test"},
		"mail":                       {"carol.old@contoso.test"},
		"displayName":                {"Carol"},
		"msExchRecipientTypeDetails": {recipientUserMailbox},
		"msExchMailboxGuid":          {"00000000-0000-0000-0000-000000000001"},
		"homeMDB":                    {"CN=Mailbox Database 02,CN=Databases,CN=Exchange"},
		"proxyAddresses": {"SMTP:carol@contoso.test", "smtp:c.clark@contoso.test",
			"X500:/o=Contoso/cn=carol", "sip:carol@contoso.test", "smtp:broken"},
	})
	got, ok, err := sourceUser(e)
	if err != nil || !ok {
		t.Fatalf("sourceUser: %v, %v", ok, err)
	}
	want := directory.SourceUser{ImmutableID: "MyIRAFVEd2aImaq7zN3u/w==",
		UPN: "carol@contoso.test", Mail: "carol@contoso.test", DisplayName: "Carol",
		RecipientType: directory.UserMailbox, MailboxGUID: "00000000-0000-0000-0000-000000000001",
		ProxyAddresses: []string{"c.clark@contoso.test"}, Database: "Mailbox Database 02"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sourceUser (-want +got):\n%s", diff)
	}
}

func TestSMTPAddresses(t *testing.T) {
	tests := []struct {
		in        []string
		primary   string
		secondary []string
	}{
		{nil, "", nil},
		{[]string{"SMTP:a@x.test", "smtp:b@x.test", "smtp:c@x.test"}, "a@x.test",
			[]string{"b@x.test", "c@x.test"}},
		{[]string{"smtp:b@x.test"}, "", []string{"b@x.test"}},
		// A second SMTP: is an error of the source; it is kept as secondary.
		{[]string{"SMTP:a@x.test", "SMTP:b@x.test"}, "a@x.test", []string{"b@x.test"}},
		{[]string{"X500:/o=x", "SIP:a@x.test", "smtp:", "nocolon@x.test"}, "", nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			p, s := smtpAddresses(tt.in)
			if p != tt.primary || !cmp.Equal(s, tt.secondary) {
				t.Errorf("got %q %q, want %q %q", p, s, tt.primary, tt.secondary)
			}
		})
	}
}

func FuzzSMTPAddresses(f *testing.F) {
	f.Add("SMTP:a@x.test", "smtp:b@x.test")
	f.Add("X500:/o=x", "smtp:")
	f.Fuzz(func(t *testing.T, a, b string) {
		p, s := smtpAddresses([]string{a, b})
		for _, addr := range append(s, p) {
			if addr != "" && !strings.Contains(addr, "@") {
				t.Errorf("smtpAddresses(%q, %q) kept %q, which has no @", a, b, addr)
			}
		}
	})
}

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"CN=DB01,CN=Databases,CN=Exchange Administrative Group", "DB01", true},
		{"cn=Mailbox Database\\2C 02,cn=Databases", "Mailbox Database, 02", true},
		{"OU=DB01,DC=contoso", "", false},
		{"not a dn", "", false},
	}
	for _, tt := range tests {
		got, err := databaseName(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("databaseName(%q) = %q, %v; want %q, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func FuzzDatabaseName(f *testing.F) {
	f.Add("CN=DB01,CN=Databases")
	f.Add("cn=a\\,b")
	f.Fuzz(func(t *testing.T, dn string) {
		name, err := databaseName(dn)
		if err == nil && dn != "" && name == "" && !strings.Contains(strings.ToLower(dn), "cn=") {
			t.Errorf("databaseName(%q) = empty name without an error", dn)
		}
	})
}

func TestChooseMode(t *testing.T) {
	syncprov := rootDSE{controls: map[string]bool{oidSyncRequest: true}}
	ad := rootDSE{controls: map[string]bool{oidDirSync: true}, highestUSN: 9,
		namingContext: "DC=x"}
	tests := []struct {
		name string
		dse  rootDSE
		prev ReadMode
		want ReadMode
	}{
		{"openldap with syncprov", syncprov, "", ModeSyncrepl},
		{"openldap without", rootDSE{}, "", ModeFull},
		{"ad", ad, "", ModeDirSync},
		{"ad, DirSync refused before", ad, ModeUSN, ModeUSN},
		{"ad without naming context", rootDSE{controls: ad.controls, highestUSN: 9}, "", ModeUSN},
		{"syncprov removed", rootDSE{}, ModeSyncrepl, ModeFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.dse.choose(tt.prev); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCursorKeeping(t *testing.T) {
	dir := t.TempDir()
	s := &LDAPSource{URL: "ldap://a", BaseDN: "dc=x", StatePath: filepath.Join(dir, "s.json")}
	if _, note := s.loadCursor(); note == "" {
		t.Error("no state file: got no reason for the full compare")
	}
	cur := ldapCursor{Source: s.identity(), Mode: ModeSyncrepl, Cookie: []byte("c1")}
	failed := directory.Problem{ImmutableID: "i1", UPN: "a@x", Reason: "collision"}
	held := directory.Problem{ImmutableID: "i2", UPN: "b@x", Reason: "held", Held: true}
	badDN := directory.Problem{DN: "cn=bad,dc=x", Reason: "bad GUID"}
	tests := []struct {
		name    string
		sum     directory.Summary
		saved   bool
		pending pending
	}{
		{"failed entry read", directory.Summary{Failed: 1,
			Problems: []directory.Problem{failed}}, true, pending{Reread: []string{"cn=a,dc=x"}}},
		{"failed at the source", directory.Summary{Failed: 1,
			Problems: []directory.Problem{badDN}}, true, pending{Reread: []string{badDN.DN}}},
		{"failed entry not read", directory.Summary{Failed: 1,
			Problems: []directory.Problem{{ImmutableID: "i9", Reason: "x"}}}, false, pending{}},
		{"held deletions", directory.Summary{Held: 1, Problems: []directory.Problem{held}},
			true, pending{Deletes: []string{"i2"}}},
		{"clean run", directory.Summary{Added: 3}, true, pending{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(s.StatePath)
			c := cur
			s.pending, s.dns = &c, map[string]string{"i1": "cn=a,dc=x"}
			if err := s.Commit(tt.sum); err != nil {
				t.Fatal(err)
			}
			got, _ := s.loadCursor()
			if saved := string(got.Cookie) == "c1"; saved != tt.saved {
				t.Errorf("state kept: got %t, want %t", saved, tt.saved)
			}
			if diff := cmp.Diff(tt.pending, got.Pending, cmp.AllowUnexported(pending{})); diff != "" {
				t.Errorf("pending (-want +got):\n%s", diff)
			}
		})
	}
	// A state of another base is not used.
	other := *s
	other.BaseDN = "dc=y"
	if got, note := other.loadCursor(); got.positioned() || note == "" {
		t.Errorf("state of another base: got %+v, %q; want none, with a reason", got, note)
	}
	if err := os.WriteFile(s.StatePath, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, note := s.loadCursor(); got.positioned() || note == "" {
		t.Errorf("broken state: got %+v, %q; want none, with a reason", got, note)
	}
}

// fakeLimited is an OpenLDAP server with LDAP Sync whose size limit is
// below the directory's size: LDAP Sync fails, a paged search works.
type fakeLimited struct {
	ldap.Client
	entries []*ldap.Entry
}

func (f *fakeLimited) Bind(string, string) error { return nil }
func (f *fakeLimited) Close() error              { return nil }

func (f *fakeLimited) Search(*ldap.SearchRequest) (*ldap.SearchResult, error) {
	dse := ldap.NewEntry("", map[string][]string{"supportedControl": {oidSyncRequest}})
	return &ldap.SearchResult{Entries: []*ldap.Entry{dse}}, nil
}

func (f *fakeLimited) SearchWithPaging(*ldap.SearchRequest, uint32) (*ldap.SearchResult,
	error) {
	return &ldap.SearchResult{Entries: f.entries}, nil
}

func (f *fakeLimited) Syncrepl(context.Context, *ldap.SearchRequest, int,
	ldap.ControlSyncRequestMode, []byte, bool) ldap.Response {
	return errResponse{ldap.NewError(ldap.LDAPResultSizeLimitExceeded,
		errors.New("size limit exceeded"))}
}

// errResponse is a search that failed before its first result.
type errResponse struct{ err error }

func (r errResponse) Entry() *ldap.Entry       { return nil }
func (r errResponse) Referral() string         { return "" }
func (r errResponse) Controls() []ldap.Control { return nil }
func (r errResponse) Err() error               { return r.err }
func (r errResponse) Next() bool               { return false }

func TestSyncreplSizeLimit(t *testing.T) {
	f := &fakeLimited{entries: []*ldap.Entry{ldap.NewEntry("cn=carol", map[string][]string{
		"entryUUID": {"00112233-4455-6677-8899-aabbccddeeff"}, "mail": {"carol@x.test"},
		"userPrincipalName": {"carol@x.test"}, "msExchRecipientTypeDetails": {"1"}})}}
	s := &LDAPSource{URL: "ldap://x", dial: func(string) (ldap.Client, error) { return f, nil }}
	b, err := s.Read(context.Background())
	if err != nil || len(b.Upserts) != 1 || !b.Full {
		t.Fatalf("read: got %+v, %v; want a full batch of carol", b, err)
	}
	if st := s.LastRead(); st.Mode != ModeFull || !strings.Contains(st.Fallback, "size limit") {
		t.Errorf("read: got %+v, want a full read explained by the size limit", st)
	}
}
