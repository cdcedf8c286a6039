package dirsync

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

const (
	testBase   = "dc=contoso,dc=test"
	testBindDN = "cn=sync," + testBase
	testPass   = "sync-secret"
)

// startSlapd runs a throwaway slapd with the Exchange test schema on a
// loopback port and returns its URL. Without slapd the test is skipped,
// except in CI, which installs it.
func startSlapd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("slapd")
	if err != nil {
		bin = "/usr/sbin/slapd"
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("slapd not installed: %v", err)
		}
		t.Skip("slapd not installed")
	}
	dir := t.TempDir()
	schema, err := filepath.Abs("testdata/exchange.schema")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include %s
pidfile %s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "%s"
rootdn "%s"
rootpw %s
directory %s/db
`, schema, dir, testBase, testBindDN, testPass, dir)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "ldap://127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", confPath, "-h", url+"/", "-d", "0")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if c, err := ldap.DialURL(url); err == nil {
			c.Close()
			return url
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("slapd did not start within 10s")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func ldapConn(t *testing.T, url string) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(testBindDN, testPass); err != nil {
		t.Fatal(err)
	}
	return c
}

func addUser(t *testing.T, c *ldap.Conn, name, recipientType, guid string) {
	t.Helper()
	req := ldap.NewAddRequest("cn="+name+","+testBase, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson", "msExchMailUser"})
	req.Attribute("sn", []string{name})
	req.Attribute("displayName", []string{"User " + name})
	req.Attribute("mail", []string{name + "@contoso.test"})
	req.Attribute("userPrincipalName", []string{name + "@contoso.test"})
	req.Attribute("msExchRecipientTypeDetails", []string{recipientType})
	req.Attribute("msExchMailboxGuid", []string{guid})
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
}

func modify(t *testing.T, c *ldap.Conn, name, attr, value string) {
	t.Helper()
	req := ldap.NewModifyRequest("cn="+name+","+testBase, nil)
	req.Replace(attr, []string{value})
	if err := c.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", name, err)
	}
}

func TestLDAPSync(t *testing.T) {
	url := startSlapd(t)
	ctx := context.Background()
	c := ldapConn(t, url)
	root := ldap.NewAddRequest(testBase, nil)
	root.Attribute("objectClass", []string{"dcObject", "organization"})
	root.Attribute("dc", []string{"contoso"})
	root.Attribute("o", []string{"Contoso"})
	if err := c.Add(root); err != nil {
		t.Fatal(err)
	}
	guids := map[string]string{}
	for i, n := range []string{"carol", "dave", "erin"} {
		guids[n] = fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i+1)
		addUser(t, c, n, recipientUserMailbox, guids[n])
	}
	// A contact is not a mailbox user: sync leaves it out.
	addUser(t, c, "contact", "64", "00000000-0000-0000-0000-000000000009")

	cloud, err := directory.Open(filepath.Join(t.TempDir(), "cloud.db"), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	src := &LDAPSource{URL: url, BindDN: testBindDN, Password: testPass, BaseDN: testBase,
		PageSize: 2}
	run := func(confirm bool) directory.Summary {
		t.Helper()
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := cloud.Apply(ctx, b, directory.SyncOptions{CloudDatabase: "CLOUD-DB",
			ConfirmDeletes: confirm})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	counts := func(s directory.Summary) [5]int {
		return [5]int{s.Added, s.Updated, s.Deleted, s.Held, s.Failed}
	}

	if got, want := counts(run(false)), [5]int{3, 0, 0, 0, 0}; got != want {
		t.Errorf("first sync: got %v, want %v", got, want)
	}
	carol, err := cloud.Lookup(ctx, "carol@contoso.test")
	if err != nil || carol.MailboxGUID != guids["carol"] || !carol.SyncEnabled ||
		carol.Premises != directory.OnPrem {
		t.Errorf("carol: got %+v, %v; want synced on premises with her GUID", carol, err)
	}

	modify(t, c, "carol", "displayName", "Carol Clark")
	// dave's mailbox moves to the cloud: on premises he becomes a remote mailbox.
	modify(t, c, "dave", "msExchRecipientTypeDetails", recipientRemoteUserMailbox)
	if got, want := counts(run(false)), [5]int{0, 2, 0, 0, 0}; got != want {
		t.Errorf("change and move: got %v, want %v", got, want)
	}
	if loc, err := cloud.Locate(ctx, "dave@contoso.test"); err != nil || !loc.Local ||
		loc.Mailbox.Database != "CLOUD-DB" {
		t.Errorf("moved dave: routed to %+v, %v; want the cloud's CLOUD-DB", loc, err)
	}

	if err := c.Del(ldap.NewDelRequest("cn=erin,"+testBase, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := counts(run(false)), [5]int{0, 0, 0, 1, 0}; got != want {
		t.Errorf("delete 1 of 3: got %v, want %v (held past 10%%)", got, want)
	}
	if got, want := counts(run(true)), [5]int{0, 0, 1, 0, 0}; got != want {
		t.Errorf("confirmed delete: got %v, want %v", got, want)
	}

	// A cloud user not yet synced whose address a new on-prem user has is
	// adopted (a soft match), not duplicated.
	if err := cloud.Put(ctx, directory.User{ObjectID: "c1", UPN: "frank@contoso.test",
		Mail: "frank@contoso.test", DisplayName: "Frank", Premises: directory.Cloud,
		RecipientType: directory.UserMailbox, Database: "CLOUD-DB"}); err != nil {
		t.Fatal(err)
	}
	addUser(t, c, "frank", recipientUserMailbox, "00000000-0000-0000-0000-000000000007")
	if got, want := counts(run(false)), [5]int{0, 1, 0, 0, 0}; got != want {
		t.Errorf("soft match of frank: got %v, want %v", got, want)
	}
}

func TestMailboxGUID(t *testing.T) {
	ad := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	tests := []struct {
		raw  []byte
		want string
	}{
		{ad, "00112233-4455-6677-8899-aabbccddeeff"},
		{[]byte("00112233-4455-6677-8899-AABBCCDDEEFF"), "00112233-4455-6677-8899-aabbccddeeff"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got, err := mailboxGUID(tt.raw); err != nil || got != tt.want {
			t.Errorf("mailboxGUID(%x) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	if _, err := mailboxGUID([]byte("not a guid")); err == nil {
		t.Error("mailboxGUID(not a guid): got nil error")
	}
}

func FuzzMailboxGUID(f *testing.F) {
	f.Add([]byte("00112233-4455-6677-8899-aabbccddeeff"))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, raw []byte) {
		g, err := mailboxGUID(raw)
		if err == nil && len(raw) > 0 {
			if again, err := mailboxGUID([]byte(g)); err != nil || again != g {
				t.Errorf("mailboxGUID(%q) = %q, %v; want a fixed point", g, again, err)
			}
		}
	})
}
