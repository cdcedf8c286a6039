package dirsync

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// No Active Directory runs here, so DirSync and uSNChanged reads are tested
// against fakeAD: a small model of a domain controller behind go-ldap's
// client interface. It answers the requests the source makes the way AD
// does (as documented in [MS-ADTS]), and records them, so that the tests
// check both the requests and the handling of the answers.

const (
	adNC   = "DC=contoso,DC=test"
	adBase = "OU=Users," + adNC
	adDSA  = "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration," + adNC
)

// adObject is one object of the fake domain.
type adObject struct {
	guid    []byte
	dn      string
	attrs   map[string]string
	usn     int64    // uSNChanged
	changed []string // the attributes its last change touched; nil: all
	deleted bool
}

type fakeAD struct {
	ldap.Client // not set: a call the source must not make panics
	usn         int64
	dsa         string
	objects     []*adObject
	denyDirSync bool
	refuse      map[string]bool // DirSync cookies refused as stale
	pageSize    int             // DirSync objects per answer
	requests    []string
}

func newFakeAD() *fakeAD {
	return &fakeAD{usn: 1000, dsa: adDSA, refuse: map[string]bool{}, pageSize: 2}
}

func (f *fakeAD) Bind(string, string) error { return nil }
func (f *fakeAD) Close() error              { return nil }

func (f *fakeAD) find(name string) *adObject {
	for _, o := range f.objects {
		if strings.HasPrefix(o.dn, "CN="+name+",") && !o.deleted {
			return o
		}
	}
	panic("no object " + name)
}

// add creates a mailbox user (recipient type rt) in ou.
func (f *fakeAD) add(name, rt, ou string) *adObject {
	f.usn++
	o := &adObject{guid: []byte(fmt.Sprintf("guid-%-11s", name))[:16],
		dn: "CN=" + name + "," + ou, usn: f.usn,
		attrs: map[string]string{"objectClass": "user",
			"userPrincipalName": name + "@contoso.test", "mail": name + "@contoso.test",
			"displayName": name, "homeMDB": "CN=MDB01,CN=Databases,CN=Exchange," + adNC}}
	if rt != "" {
		o.attrs["msExchRecipientTypeDetails"] = rt
	}
	f.objects = append(f.objects, o)
	return o
}

// modify sets (or, with an empty value, clears) one attribute.
func (f *fakeAD) modify(name, attr, value string) {
	o := f.find(name)
	f.usn++
	o.usn, o.changed = f.usn, []string{attr}
	if value == "" {
		delete(o.attrs, attr)
	} else {
		o.attrs[attr] = value
	}
}

// remove turns an object into a tombstone: moved to Deleted Objects,
// stripped of all but a few attributes ([MS-ADTS] 3.1.1.5.5).
func (f *fakeAD) remove(name string) {
	o := f.find(name)
	f.usn++
	o.usn, o.deleted, o.changed = f.usn, true, nil
	o.dn = "CN=" + name + "\\0ADEL:x,CN=Deleted Objects," + adNC
	o.attrs = map[string]string{"objectClass": "user", "isDeleted": "TRUE"}
}

func (o *adObject) entry(only []string) *ldap.Entry {
	e := &ldap.Entry{DN: o.dn, Attributes: []*ldap.EntryAttribute{{Name: "objectGUID",
		Values: []string{string(o.guid)}, ByteValues: [][]byte{o.guid}}}}
	for k, v := range o.attrs {
		if only == nil || slices.Contains(only, k) {
			e.Attributes = append(e.Attributes, ldap.NewEntryAttribute(k, []string{v}))
		}
	}
	return e
}

func (f *fakeAD) Search(req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	if req.BaseDN == "" {
		dse := ldap.NewEntry("", map[string][]string{
			"supportedControl":     {ldap.ControlTypePaging, oidDirSync},
			"highestCommittedUSN":  {strconv.FormatInt(f.usn, 10)},
			"dsServiceName":        {f.dsa},
			"defaultNamingContext": {adNC}})
		return &ldap.SearchResult{Entries: []*ldap.Entry{dse}}, nil
	}
	f.requests = append(f.requests, "read "+req.BaseDN)
	for _, o := range f.objects {
		if !o.deleted && "<GUID="+hex.EncodeToString(o.guid)+">" == req.BaseDN {
			return &ldap.SearchResult{Entries: []*ldap.Entry{o.entry(nil)}}, nil
		}
	}
	return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, fmt.Errorf("no %s", req.BaseDN))
}

// DirSync answers with the objects changed after the cookie's USN, a page
// at a time; the cookie is the last USN returned. The initial read (no
// cookie, and its further pages) returns every live object whole; later
// ones only the changed attributes, and the tombstones.
func (f *fakeAD) DirSync(req *ldap.SearchRequest, flags, maxAttrs int64, cookie []byte) (
	*ldap.SearchResult, error) {
	f.requests = append(f.requests, fmt.Sprintf("dirsync %s %s flags=%d cookie=%q",
		req.BaseDN, req.Filter, flags, cookie))
	switch {
	case f.denyDirSync:
		return nil, ldap.NewError(ldap.LDAPResultInsufficientAccessRights,
			fmt.Errorf("replicating directory changes right missing"))
	case f.refuse[string(cookie)]:
		delete(f.refuse, string(cookie))
		return nil, ldap.NewError(ldap.LDAPResultUnwillingToPerform,
			fmt.Errorf("stale cookie"))
	}
	// The cookie of a page of the initial read says so: "1004 initial".
	usn, initial := strings.CutSuffix(string(cookie), " initial")
	initial = initial || len(cookie) == 0
	since, _ := strconv.ParseInt(usn, 10, 64)
	var changed []*adObject
	for _, o := range f.objects {
		if o.usn > since && (!initial || !o.deleted) {
			changed = append(changed, o)
		}
	}
	slices.SortFunc(changed, func(a, b *adObject) int { return int(a.usn - b.usn) })
	res := &ldap.SearchResult{}
	last, more := f.usn, int64(0)
	if len(changed) > f.pageSize {
		changed, more = changed[:f.pageSize], 1
		last = changed[len(changed)-1].usn
	}
	for _, o := range changed {
		only := o.changed
		if initial {
			only = nil
		}
		res.Entries = append(res.Entries, o.entry(only))
	}
	next := strconv.FormatInt(last, 10)
	if initial && more != 0 {
		next += " initial"
	}
	res.Controls = []ldap.Control{&ldap.ControlDirSync{Flags: more, Cookie: []byte(next)}}
	return res, nil
}

var usnFilter = regexp.MustCompile(`\(uSNChanged>=(\d+)\)`)

// SearchWithPaging knows the four searches of the source: all users, the
// users changed since a USN, the changed objects that left the filter, and
// the tombstones (which only the Show Deleted control reveals).
func (f *fakeAD) SearchWithPaging(req *ldap.SearchRequest, size uint32) (
	*ldap.SearchResult, error) {
	showDeleted := ldap.FindControl(req.Controls, ldap.ControlTypeMicrosoftShowDeleted) != nil
	f.requests = append(f.requests, fmt.Sprintf("search %s %s showDeleted=%t",
		req.BaseDN, req.Filter, showDeleted))
	var since int64
	if m := usnFilter.FindStringSubmatch(req.Filter); m != nil {
		since, _ = strconv.ParseInt(m[1], 10, 64)
	}
	res := &ldap.SearchResult{}
	for _, o := range f.objects {
		_, mailbox := o.attrs["msExchRecipientTypeDetails"]
		var match bool
		switch {
		case strings.Contains(req.Filter, "isDeleted=TRUE"):
			match = o.deleted && showDeleted
		case strings.Contains(req.Filter, "(!"):
			match = !o.deleted && !mailbox
		default:
			match = !o.deleted && mailbox
		}
		if match && o.usn >= since && strings.HasSuffix(o.dn, ","+req.BaseDN) {
			res.Entries = append(res.Entries, o.entry(req.Attributes))
		}
	}
	return res, nil
}

// adSource is an LDAPSource wired to the fake.
func adSource(t *testing.T, f *fakeAD) *LDAPSource {
	return &LDAPSource{URL: "ldap://dc1.contoso.test", BaseDN: adBase,
		StatePath: filepath.Join(t.TempDir(), LDAPStateFile),
		dial:      func(string) (ldap.Client, error) { return f, nil }}
}

// readAD reads once and commits as a cloud that applied it cleanly.
func readAD(t *testing.T, s *LDAPSource) (directory.Batch, ReadStats) {
	t.Helper()
	b, err := s.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := s.Commit(directory.Summary{}); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return b, s.LastRead()
}

// upns lists the UPNs of the upserts and the GUID-derived ids of deletes.
func upns(b directory.Batch) []string {
	var out []string
	for _, u := range b.Upserts {
		out = append(out, u.UPN)
	}
	return out
}

func adID(o *adObject) string {
	e := o.entry(nil)
	id, _ := entryImmutableID(e)
	return id
}

func TestDirSync(t *testing.T) {
	f := newFakeAD()
	carol := f.add("carol", recipientUserMailbox, adBase)
	dave := f.add("dave", recipientUserMailbox, adBase)
	f.add("contact", "64", adBase)
	f.add("svc", recipientUserMailbox, "OU=Service,"+adNC) // outside BaseDN
	s := adSource(t, f)

	b, st := readAD(t, s)
	if diff := cmp.Diff([]string{"carol@contoso.test", "dave@contoso.test"}, upns(b)); diff != "" {
		t.Errorf("first read upserts (-want +got):\n%s", diff)
	}
	if st.Mode != ModeDirSync || !st.Full || !b.Full || st.Entries != 3 {
		t.Errorf("first read: got %+v, want a full DirSync read of 3 entries in the base", st)
	}
	want := fmt.Sprintf("dirsync %s (|(msExchRecipientTypeDetails=*)"+
		"(&(isDeleted=TRUE)(objectClass=user))) flags=1 cookie=\"\"", adNC)
	if f.requests[0] != want {
		t.Errorf("first request: got %q, want %q", f.requests[0], want)
	}

	// A change comes with only its attribute: the source reads the object.
	f.requests = nil
	f.modify("carol", "displayName", "Carol Clark")
	b, st = readAD(t, s)
	if len(b.Upserts) != 1 || b.Upserts[0].UPN != "carol@contoso.test" ||
		b.Upserts[0].DisplayName != "Carol Clark" || b.Full || st.Entries != 1 {
		t.Errorf("change: got %+v, %+v; want carol whole, incremental", b, st)
	}
	wantReqs := []string{fmt.Sprintf("dirsync %s (|(msExchRecipientTypeDetails=*)"+
		"(&(isDeleted=TRUE)(objectClass=user))) flags=1 cookie=\"1004\"", adNC),
		"read <GUID=" + hex.EncodeToString(carol.guid) + ">"}
	if diff := cmp.Diff(wantReqs, f.requests); diff != "" {
		t.Errorf("change requests (-want +got):\n%s", diff)
	}

	// A tombstone is a delete; a mailbox turned contact leaves sync.
	f.remove("dave")
	f.modify("carol", "msExchRecipientTypeDetails", "64")
	b, _ = readAD(t, s)
	if diff := cmp.Diff([]string{adID(dave), adID(carol)}, b.Deletes); diff != "" ||
		len(b.Upserts) != 0 {
		t.Errorf("deletes (-want +got):\n%s%+v", diff, b.Upserts)
	}
}

func TestDirSyncPagesAndRefusedCookie(t *testing.T) {
	f := newFakeAD()
	for i := range 5 {
		f.add(fmt.Sprintf("u%d", i), recipientUserMailbox, adBase)
	}
	s := adSource(t, f)
	if b, _ := readAD(t, s); len(b.Upserts) != 5 {
		t.Fatalf("first read over three pages: got %d users, want 5", len(b.Upserts))
	}
	for i := range 3 {
		f.modify(fmt.Sprintf("u%d", i), "displayName", "Renamed")
	}
	b, st := readAD(t, s)
	if len(b.Upserts) != 3 || st.Full {
		t.Errorf("incremental over two pages: got %d users (%+v), want 3", len(b.Upserts), st)
	}

	// The cookie kept is refused (too old, say): a full read follows.
	cur, _ := s.loadCursor()
	f.refuse[string(cur.Cookie)] = true
	f.modify("u4", "displayName", "Renamed")
	b, st = readAD(t, s)
	if len(b.Upserts) != 5 || !b.Full || st.Fallback == "" {
		t.Errorf("refused cookie: got %d users, %+v; want a full read of 5 with a reason",
			len(b.Upserts), st)
	}

	// A run the cloud held back keeps the new cookie and the held
	// deletion, which every incremental read sends again until the cloud
	// deletes it.
	f.modify("u1", "displayName", "Again")
	if b, err := s.Read(context.Background()); err != nil || len(b.Upserts) != 1 {
		t.Fatalf("read: got %d users, %v; want 1", len(b.Upserts), err)
	}
	held := directory.Summary{Held: 1, Problems: []directory.Problem{{ImmutableID: "gone",
		Held: true, Reason: "deletion held"}}}
	for range 2 {
		if err := s.Commit(held); err != nil {
			t.Fatal(err)
		}
		b, err := s.Read(context.Background())
		if err != nil || len(b.Upserts) != 0 || b.Full || !slices.Equal(b.Deletes,
			[]string{"gone"}) {
			t.Fatalf("read after a held run: got %+v, %v; want an incremental read "+
				"carrying the held deletion", b, err)
		}
	}
	if err := s.Commit(directory.Summary{Deleted: 1}); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Read(context.Background()); err != nil || len(b.Deletes) != 0 {
		t.Errorf("read after the deletion: got %+v, %v; want nothing to delete", b, err)
	}
}

func TestUSNChanged(t *testing.T) {
	f := newFakeAD()
	f.denyDirSync = true
	f.add("carol", recipientUserMailbox, adBase)
	dave := f.add("dave", recipientUserMailbox, adBase)
	erin := f.add("erin", recipientUserMailbox, adBase)
	s := adSource(t, f)

	b, st := readAD(t, s)
	if len(b.Upserts) != 3 || !b.Full || st.Mode != ModeUSN || st.Fallback == "" {
		t.Errorf("first read: got %d users, %+v; want a full uSNChanged read with a reason",
			len(b.Upserts), st)
	}
	cur, _ := s.loadCursor()
	if cur.Mode != ModeUSN || cur.USN != 1003 || cur.Server != adDSA {
		t.Errorf("kept state: got %+v, want USN 1003 on DC1", cur)
	}

	f.requests = nil
	f.modify("carol", "displayName", "Carol Clark")
	f.remove("dave")
	f.modify("erin", "msExchRecipientTypeDetails", "")
	b, st = readAD(t, s)
	if diff := cmp.Diff([]string{"carol@contoso.test"}, upns(b)); diff != "" || b.Full {
		t.Errorf("incremental upserts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{adID(erin), adID(dave)}, b.Deletes); diff != "" {
		t.Errorf("incremental deletes (-want +got):\n%s", diff)
	}
	wantReqs := []string{
		"search " + adBase + " (&(msExchRecipientTypeDetails=*)(uSNChanged>=1004)) " +
			"showDeleted=false",
		"search " + adBase + " (&(objectClass=user)(uSNChanged>=1004)" +
			"(!(msExchRecipientTypeDetails=*))) showDeleted=false",
		"search " + adNC + " (&(&(isDeleted=TRUE)(objectClass=user))(uSNChanged>=1004)) " +
			"showDeleted=true",
	}
	if diff := cmp.Diff(wantReqs, f.requests); diff != "" {
		t.Errorf("incremental requests (-want +got):\n%s", diff)
	}

	// Another domain controller counts its own USNs: read everything.
	f.dsa = strings.Replace(adDSA, "DC1", "DC2", 1)
	b, st = readAD(t, s)
	if !b.Full || len(b.Upserts) != 1 || st.Fallback == "" {
		t.Errorf("other DC: got %+v, %+v; want a full read with a reason", b, st)
	}
}
