package dirsync

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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

// slapdConfig is how a test slapd is set up.
type slapdConfig struct {
	// syncprov loads the syncprov overlay, which offers LDAP Sync.
	syncprov bool
	// sessionlog keeps that many deletions for the delete phase; without
	// it the server answers a cookie with a present phase.
	sessionlog int
	// limits is a slapd limits directive for the database ("" keeps the
	// defaults: 500 entries, paged searches included).
	limits string
	// tlsCert and tlsKey are PEM files: slapd then also listens for
	// ldaps:// on ldapsPort.
	tlsCert, tlsKey string
	ldapsPort       int
}

// startSlapd runs a throwaway slapd with the Exchange test schema on a
// loopback port and returns its URL. Without slapd the test is skipped,
// except in CI, which installs it.
func startSlapd(t *testing.T, cfg slapdConfig) string {
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
	confPath := writeSlapdConf(t, dir, cfg)
	url := "ldap://127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	listen := url + "/"
	if cfg.ldapsPort != 0 {
		listen += " ldaps://127.0.0.1:" + strconv.Itoa(cfg.ldapsPort) + "/"
	}
	cmd := exec.CommandContext(ctx, bin, "-f", confPath, "-h", listen, "-d", "0")
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

func writeSlapdConf(t *testing.T, dir string, cfg slapdConfig) string {
	t.Helper()
	schema, err := filepath.Abs("testdata/exchange.schema")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	load, overlay := "", ""
	if cfg.syncprov {
		load = "moduleload syncprov\n"
		overlay = "index entryCSN,entryUUID eq\noverlay syncprov\nsyncprov-checkpoint 100 10\n"
		if cfg.sessionlog > 0 {
			overlay += fmt.Sprintf("syncprov-sessionlog %d\n", cfg.sessionlog)
		}
	}
	if cfg.limits != "" {
		overlay += cfg.limits + "\n"
	}
	if cfg.tlsCert != "" {
		load += fmt.Sprintf("TLSCertificateFile %s\nTLSCertificateKeyFile %s\n", cfg.tlsCert,
			cfg.tlsKey)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include %s
pidfile %s/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
%sdatabase mdb
maxsize 10485760
suffix "%s"
rootdn "%s"
rootpw %s
directory %s/db
%s`, schema, dir, load, testBase, testBindDN, testPass, dir, overlay)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return confPath
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

// ldapUser is one test entry: cn=name under the base.
type ldapUser struct {
	name, recipientType, guid, homeMDB string
	proxies                            []string
}

func (u ldapUser) add(t *testing.T, c *ldap.Conn) {
	t.Helper()
	req := ldap.NewAddRequest("cn="+u.name+","+testBase, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson", "msExchMailUser"})
	req.Attribute("sn", []string{u.name})
	req.Attribute("displayName", []string{"User " + u.name})
	req.Attribute("mail", []string{u.name + "@contoso.test"})
	req.Attribute("userPrincipalName", []string{u.name + "@contoso.test"})
	req.Attribute("msExchRecipientTypeDetails", []string{u.recipientType})
	req.Attribute("msExchMailboxGuid", []string{u.guid})
	if u.homeMDB != "" {
		req.Attribute("homeMDB", []string{u.homeMDB})
	}
	if len(u.proxies) > 0 {
		req.Attribute("proxyAddresses", u.proxies)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", u.name, err)
	}
}

func mdb(name string) string {
	return "CN=" + name + ",CN=Databases,CN=Exchange Administrative Group,CN=Contoso"
}

// modify replaces attributes of cn=name: attr, value, attr, value, …;
// an empty value deletes the attribute.
func modify(t *testing.T, c *ldap.Conn, name string, pairs ...string) {
	t.Helper()
	req := ldap.NewModifyRequest("cn="+name+","+testBase, nil)
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			req.Delete(pairs[i], nil)
			continue
		}
		req.Replace(pairs[i], []string{pairs[i+1]})
	}
	if err := c.Modify(req); err != nil {
		t.Fatalf("modify %s: %v", name, err)
	}
}

func del(t *testing.T, c *ldap.Conn, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := c.Del(ldap.NewDelRequest("cn="+n+","+testBase, nil)); err != nil {
			t.Fatalf("delete %s: %v", n, err)
		}
	}
}

// syncHarness runs sync from one slapd into one cloud directory the way
// hybridgraph sync does: read, apply (the cloud's intake), commit.
type syncHarness struct {
	t     *testing.T
	src   *LDAPSource
	cloud *directory.Directory
	conn  *ldap.Conn
}

// result is what a run did, from both sides.
type result struct {
	counts  [5]int // added, updated, deleted, held, failed
	mode    ReadMode
	full    bool
	entries int
}

func (h *syncHarness) run(confirm bool) result {
	h.t.Helper()
	ctx := context.Background()
	b, err := h.src.Read(ctx)
	if err != nil {
		h.t.Fatalf("read: %v", err)
	}
	sum, err := h.cloud.Apply(ctx, b, directory.SyncOptions{CloudDatabase: "CLOUD-DB",
		ConfirmDeletes: confirm})
	if err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	if err := h.src.Commit(sum); err != nil {
		h.t.Fatalf("commit: %v", err)
	}
	st := h.src.LastRead()
	return result{counts: [5]int{sum.Added, sum.Updated, sum.Deleted, sum.Held, sum.Failed},
		mode: st.Mode, full: st.Full, entries: st.Entries}
}

func newSyncHarness(t *testing.T, cfg slapdConfig) *syncHarness {
	url := startSlapd(t, cfg)
	c := ldapConn(t, url)
	root := ldap.NewAddRequest(testBase, nil)
	root.Attribute("objectClass", []string{"dcObject", "organization"})
	root.Attribute("dc", []string{"contoso"})
	root.Attribute("o", []string{"Contoso"})
	if err := c.Add(root); err != nil {
		t.Fatal(err)
	}
	cloud, err := directory.Open(filepath.Join(t.TempDir(), "cloud.db"), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cloud.Close() })
	src := &LDAPSource{URL: url, BindDN: testBindDN, Password: testPass, BaseDN: testBase,
		PageSize: 4, StatePath: filepath.Join(t.TempDir(), "ldap-sync.json")}
	return &syncHarness{t: t, src: src, cloud: cloud, conn: c}
}

// TestLDAPSync runs one story against three servers: OpenLDAP with LDAP
// Sync answering cookies with a delete phase, one answering with a present
// phase, and one without LDAP Sync (a full compare every run). The cloud
// must end up the same; what differs is how much each run read.
func TestLDAPSync(t *testing.T) {
	servers := []struct {
		name string
		cfg  slapdConfig
		mode ReadMode
	}{
		{"syncrepl delete phase", slapdConfig{syncprov: true, sessionlog: 100}, ModeSyncrepl},
		{"syncrepl present phase", slapdConfig{syncprov: true}, ModeSyncrepl},
		{"full compare", slapdConfig{}, ModeFull},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			h := newSyncHarness(t, srv.cfg)
			story(t, h, srv.mode)
		})
	}
}

// seed adds ten mailbox users, carol with secondary addresses, and a
// contact; it returns the number of entries the filter selects.
func seed(t *testing.T, c *ldap.Conn) int {
	users := []ldapUser{{name: "carol", proxies: []string{"SMTP:carol@contoso.test",
		"smtp:c.clark@contoso.test", "X500:/o=Contoso/cn=carol"}}}
	for i := range 9 {
		users = append(users, ldapUser{name: fmt.Sprintf("u%d", i)})
	}
	for i, u := range users {
		u.recipientType, u.homeMDB = recipientUserMailbox, mdb("MDB01")
		u.guid = fmt.Sprintf("00000000-0000-0000-0000-0000000000%02d", i+1)
		u.add(t, c)
	}
	// A contact is not a mailbox user: sync leaves it out.
	ldapUser{name: "contact", recipientType: "64",
		guid: "00000000-0000-0000-0000-000000000099"}.add(t, c)
	return len(users) + 1
}

// story is the sync story every server goes through.
func story(t *testing.T, h *syncHarness, mode ReadMode) {
	ctx := context.Background()
	incremental := mode != ModeFull
	// live counts the entries the filter selects, which a full read returns.
	live := 0
	check := func(step string, got result, counts [5]int, changed int) {
		t.Helper()
		if got.counts != counts {
			t.Errorf("%s: got %v, want %v", step, got.counts, counts)
		}
		wantEntries := live
		if incremental {
			wantEntries = changed
		}
		if got.mode != mode || got.entries != wantEntries {
			t.Errorf("%s: read %d entries in mode %s, want %d in %s", step, got.entries,
				got.mode, wantEntries, mode)
		}
	}

	live = seed(t, h.conn)
	first := h.run(false)
	check("first sync", first, [5]int{10, 0, 0, 0, 0}, live)
	if !first.full {
		t.Error("first sync: got an incremental read, want a full compare")
	}
	carol, err := h.cloud.Lookup(ctx, "c.clark@contoso.test")
	if err != nil || carol.UPN != "carol@contoso.test" || carol.Database != "MDB01" ||
		carol.Premises != directory.OnPrem || !carol.SyncEnabled {
		t.Errorf("carol by her secondary address: got %+v, %v; want synced, on premises "+
			"in MDB01", carol, err)
	}

	modify(t, h.conn, "carol", "displayName", "Carol Clark")
	check("incremental change", h.run(false), [5]int{0, 1, 0, 0, 0}, 1)
	check("no change", h.run(false), [5]int{}, 0)

	// u0's mailbox moves to the cloud (on premises a remote mailbox without
	// a database); u1's to another on-prem database.
	modify(t, h.conn, "u0", "msExchRecipientTypeDetails", recipientRemoteUserMailbox,
		"homeMDB", "")
	modify(t, h.conn, "u1", "homeMDB", mdb("MDB02"))
	check("moves", h.run(false), [5]int{0, 2, 0, 0, 0}, 2)
	if loc, err := h.cloud.Locate(ctx, "u0@contoso.test"); err != nil || !loc.Local ||
		loc.Mailbox.Database != "CLOUD-DB" {
		t.Errorf("moved u0: routed to %+v, %v; want the cloud's CLOUD-DB", loc, err)
	}
	if u1, err := h.cloud.Lookup(ctx, "u1@contoso.test"); err != nil || u1.Database != "MDB02" {
		t.Errorf("moved u1: got %+v, %v; want on premises in MDB02", u1, err)
	}

	if st := storyDeletes(t, h, check, &live); mode == ModeSyncrepl &&
		st.Deletes+st.Present == 0 {
		t.Errorf("deletes: LDAP Sync named neither deleted nor present entries: %+v", st)
	}
	storyCollision(t, h, check, &live)
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

// checkFunc checks one run: its summary counts, and that it read the
// changed entries (incremental) or every live one (full compare).
type checkFunc func(step string, got result, counts [5]int, changed int)

// storyDeletes returns how the source read the run that first held
// deletions.
func storyDeletes(t *testing.T, h *syncHarness, check checkFunc, live *int) ReadStats {
	// One of ten synced users is within the 10% threshold.
	del(t, h.conn, "u8")
	*live--
	check("delete one", h.run(false), [5]int{0, 0, 1, 0, 0}, 0)

	// Two of nine are past it: held, and sent again until confirmed, while
	// reads stay incremental (a change meanwhile is read alone).
	del(t, h.conn, "u6", "u7")
	*live -= 2
	check("delete two", h.run(false), [5]int{0, 0, 0, 2, 0}, 0)
	st := h.src.LastRead()
	modify(t, h.conn, "u5", "displayName", "Five")
	check("delete two again", h.run(false), [5]int{0, 1, 0, 2, 0}, 1)
	check("delete two confirmed", h.run(true), [5]int{0, 0, 2, 0, 0}, 0)
	check("after the deletes", h.run(false), [5]int{}, 0)
	users, err := h.cloud.All(context.Background())
	if err != nil || len(users) != 7 {
		t.Errorf("after the deletes: %d users (%v), want 7", len(users), err)
	}
	return st
}

func storyCollision(t *testing.T, h *syncHarness, check checkFunc, live *int) {
	ctx := context.Background()
	grace := directory.User{ObjectID: "c1", UPN: "grace@contoso.test",
		Mail: "grace@contoso.test", DisplayName: "Grace", Premises: directory.Cloud,
		RecipientType: directory.UserMailbox, Database: "CLOUD-DB"}
	if err := h.cloud.Put(ctx, grace); err != nil {
		t.Fatal(err)
	}
	// heidi claims grace's address as a secondary one: reported, left
	// alone, and read again at the next run.
	ldapUser{name: "heidi", recipientType: recipientUserMailbox,
		guid:    "00000000-0000-0000-0000-000000000042",
		proxies: []string{"SMTP:heidi@contoso.test", "smtp:grace@contoso.test"}}.add(t, h.conn)
	*live++
	check("collision", h.run(false), [5]int{0, 0, 0, 0, 1}, 1)
	check("collision again", h.run(false), [5]int{0, 0, 0, 0, 1}, 1)
	if got, err := h.cloud.Lookup(ctx, "grace@contoso.test"); err != nil || got.ObjectID != "c1" {
		t.Errorf("grace after the collision: got %+v, %v; want the cloud-only user", got, err)
	}

	modify(t, h.conn, "heidi", "proxyAddresses", "smtp:h@contoso.test")
	check("collision resolved", h.run(false), [5]int{1, 0, 0, 0, 0}, 1)
	if got, err := h.cloud.Lookup(ctx, "h@contoso.test"); err != nil ||
		got.UPN != "heidi@contoso.test" {
		t.Errorf("heidi by her secondary address: got %+v, %v", got, err)
	}
}

// TestLDAPSyncRefusedCookie shows that a cookie the server refuses turns
// the run into a full compare, which the cloud applies like any other.
func TestLDAPSyncRefusedCookie(t *testing.T) {
	h := newSyncHarness(t, slapdConfig{syncprov: true, sessionlog: 100})
	for i := range 3 {
		ldapUser{name: fmt.Sprintf("u%d", i), recipientType: recipientUserMailbox,
			guid: fmt.Sprintf("00000000-0000-0000-0000-0000000000%02d", i+1)}.add(t, h.conn)
	}
	if got := h.run(false); got.counts != [5]int{3, 0, 0, 0, 0} {
		t.Fatalf("first sync: got %v", got.counts)
	}
	b, err := os.ReadFile(h.src.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	var cur ldapCursor
	if err := json.Unmarshal(b, &cur); err != nil || cur.Mode != ModeSyncrepl ||
		len(cur.Cookie) == 0 {
		t.Fatalf("kept state: got %+v, %v; want a syncrepl cookie", cur, err)
	}
	// A state newer than the server's own, as after the server was
	// restored from a backup: OpenLDAP refuses it.
	cur.Cookie = []byte("rid=000,csn=20991231000000.000000Z#000000#000#000000")
	if err := saveCursor(h.src.StatePath, cur); err != nil {
		t.Fatal(err)
	}
	modify(t, h.conn, "u1", "displayName", "Renamed")
	got := h.run(false)
	if got.counts != [5]int{0, 1, 0, 0, 0} || !got.full || got.entries != 3 {
		t.Errorf("refused cookie: got %+v, want one update from a full read of 3", got)
	}
	if st := h.src.LastRead(); st.Fallback == "" {
		t.Error("refused cookie: LastRead().Fallback is empty, want the reason")
	}
	if got := h.run(false); got.full || got.entries != 0 {
		t.Errorf("after the fallback: got %+v, want an incremental read of nothing", got)
	}
}

// TestLDAPSyncKeepsReadingIncrementally checks that a run the cloud does
// not fully apply (an entry collides with a cloud-only user, deletions
// are held) still keeps the read state: the next run reads incrementally
// and carries the collided entry and the held deletions again, until the
// collision is gone and an admin confirms.
func TestLDAPSyncKeepsReadingIncrementally(t *testing.T) {
	ctx := context.Background()
	h := newSyncHarness(t, slapdConfig{syncprov: true, sessionlog: 100})
	grace := directory.User{ObjectID: "c1", UPN: "grace@contoso.test",
		Mail: "grace@contoso.test", DisplayName: "Grace", Premises: directory.Cloud,
		RecipientType: directory.UserMailbox, Database: "CLOUD-DB"}
	if err := h.cloud.Put(ctx, grace); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"grace", "u1", "u2", "u3"} {
		ldapUser{name: name, recipientType: recipientUserMailbox,
			guid: fmt.Sprintf("00000000-0000-0000-0000-0000000000%02d", i+1)}.add(t, h.conn)
	}
	steps := []struct {
		name    string
		change  func()
		confirm bool
		counts  [5]int
		full    bool
		entries int
	}{
		{"first", func() {}, false, [5]int{3, 0, 0, 0, 1}, true, 4},
		{"collision again", func() {}, false, [5]int{0, 0, 0, 0, 1}, false, 1},
		{"held", func() { del(t, h.conn, "u1", "u2") }, false, [5]int{0, 0, 0, 2, 1}, false, 1},
		{"held again", func() {}, false, [5]int{0, 0, 0, 2, 1}, false, 1},
		{"collision resolved", func() { del(t, h.conn, "grace") }, false,
			[5]int{0, 0, 0, 2, 0}, false, 0},
		{"confirmed", func() {}, true, [5]int{0, 0, 2, 0, 0}, false, 0},
		{"quiet", func() {}, false, [5]int{}, false, 0},
	}
	for _, st := range steps {
		st.change()
		got := h.run(st.confirm)
		if got.counts != st.counts || got.full != st.full || got.entries != st.entries {
			t.Errorf("%s: got %v full=%t entries=%d, want %v full=%t entries=%d", st.name,
				got.counts, got.full, got.entries, st.counts, st.full, st.entries)
		}
	}
	if got, err := h.cloud.Lookup(ctx, "grace@contoso.test"); err != nil || got != grace {
		t.Errorf("grace: got %+v, %v; want the cloud-only user unchanged", got, err)
	}
	if _, err := h.cloud.Lookup(ctx, "u1@contoso.test"); err == nil {
		t.Error("u1: still in the cloud after the confirmed deletion")
	}
}

// TestLDAPSyncFailsBadEntries checks that an entry sync cannot read fails
// alone, named by its DN with the reason, and the rest of the run goes on.
func TestLDAPSyncFailsBadEntries(t *testing.T) {
	h := newSyncHarness(t, slapdConfig{})
	ldapUser{name: "good", recipientType: recipientUserMailbox,
		guid: "00000000-0000-0000-0000-000000000001"}.add(t, h.conn)
	ldapUser{name: "badguid", recipientType: recipientUserMailbox,
		guid: "not-a-guid"}.add(t, h.conn)
	ldapUser{name: "noupn", recipientType: recipientUserMailbox,
		guid: "00000000-0000-0000-0000-000000000003"}.add(t, h.conn)
	modify(t, h.conn, "noupn", "userPrincipalName", "")
	b, err := h.src.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	sum, err := h.cloud.Apply(context.Background(), b,
		directory.SyncOptions{CloudDatabase: "CLOUD-DB"})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if sum.Added != 1 || sum.Failed != 2 {
		t.Errorf("got %+v, want good added and two failed", sum)
	}
	reasons := map[string]string{}
	for _, p := range sum.Problems {
		reasons[p.DN] = p.Reason
	}
	for dn, want := range map[string]string{"cn=badguid," + testBase: "msExchMailboxGuid",
		"cn=noupn," + testBase: "userPrincipalName"} {
		if !strings.Contains(reasons[dn], want) {
			t.Errorf("problem of %s: got %q, want one naming %s", dn, reasons[dn], want)
		}
	}
}

// TestLDAPSyncPastSizeLimit reads more entries than slapd's default size
// limit (500) as an account that is not the rootdn, so limits apply. A
// paged search is held to the limit too unless the account's size.prtotal
// is raised (slapd.conf(5), limits): with the defaults the read fails with
// an error that says so, with the limit raised it reads every entry.
func TestLDAPSyncPastSizeLimit(t *testing.T) {
	const readerDN = "cn=reader," + testBase
	tests := []struct {
		name   string
		limits string
		err    string
	}{
		{"default limits", "", "size.prtotal"},
		{"paged limit raised", `limits dn.exact="` + readerDN + `" size.prtotal=unlimited`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSyncHarness(t, slapdConfig{limits: tt.limits})
			reader := ldap.NewAddRequest(readerDN, nil)
			reader.Attribute("objectClass", []string{"inetOrgPerson"})
			reader.Attribute("sn", []string{"reader"})
			reader.Attribute("userPassword", []string{"reader-secret"})
			if err := h.conn.Add(reader); err != nil {
				t.Fatal(err)
			}
			const n = 520
			for i := range n {
				ldapUser{name: fmt.Sprintf("u%03d", i), recipientType: recipientUserMailbox,
					guid: fmt.Sprintf("00000000-0000-0000-0000-%012d", i+1)}.add(t, h.conn)
			}
			h.src.BindDN, h.src.Password, h.src.PageSize = readerDN, "reader-secret", 0
			b, err := h.src.Read(context.Background())
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("read: got %v, want an error naming %s", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("read: %v", err)
			case tt.err == "" && len(b.Upserts) != n:
				t.Errorf("read %d users, want %d", len(b.Upserts), n)
			}
		})
	}
}

// TestLDAPSyncOverTLS reads over ldaps:// from a slapd whose certificate a
// test CA signed: trusted, the read works; untrusted, or for another host
// name, it fails before anything is read.
func TestLDAPSyncOverTLS(t *testing.T) {
	dir := t.TempDir()
	pool, certFile, keyFile := testCertificate(t, dir, "127.0.0.1")
	port := freePort(t)
	h := newSyncHarness(t, slapdConfig{tlsCert: certFile, tlsKey: keyFile, ldapsPort: port})
	ldapUser{name: "tls", recipientType: recipientUserMailbox,
		guid: "00000000-0000-0000-0000-000000000007"}.add(t, h.conn)
	h.src.URL = "ldaps://127.0.0.1:" + strconv.Itoa(port)

	h.src.TLSConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	if _, err := h.src.Read(context.Background()); err == nil ||
		!strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: got %v, want a certificate error", err)
	}
	h.src.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "dc1.contoso.test"}
	if _, err := h.src.Read(context.Background()); err == nil {
		t.Error("certificate for another host: got no error")
	}
	h.src.TLSConfig = &tls.Config{RootCAs: pool}
	if got := h.run(false); got.counts != [5]int{1, 0, 0, 0, 0} {
		t.Errorf("trusted: got %+v, want one added", got)
	}
}

// testCertificate writes a key and a certificate for host, signed by a new
// test CA, as PEM files in dir, and returns the pool that trusts the CA.
func testCertificate(t *testing.T, dir, host string) (*x509.CertPool, string, string) {
	t.Helper()
	now := time.Now()
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(host)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: der},
		keyFile:  {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return pool, certFile, keyFile
}
