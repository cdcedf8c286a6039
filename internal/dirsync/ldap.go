package dirsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// LDAP values of msExchRecipientTypeDetails that sync carries
// (exchange-hybrid.md §3.1): a mailbox on premises, and a cloud mailbox
// provisioned on premises.
const (
	recipientUserMailbox       = "1"
	recipientRemoteUserMailbox = "2147483648"
)

// DefaultLDAPFilter selects the mail-enabled users of an LDAP directory.
const DefaultLDAPFilter = "(msExchRecipientTypeDetails=*)"

// DefaultLDAPPageSize is the page size of the paged search (RFC 2696).
const DefaultLDAPPageSize = 500

// ldapAttributes are the attributes the source reads: the object's GUID
// (objectGUID in Active Directory, entryUUID elsewhere) and the Exchange
// attributes of a mailbox user.
var ldapAttributes = []string{"objectGUID", "entryUUID", "userPrincipalName", "mail",
	"proxyAddresses", "displayName", "msExchRecipientTypeDetails", "homeMDB",
	"msExchMailboxGuid"}

// LDAPStateFile is the usual name of an LDAPSource's state file, kept in
// the on-prem side's folder of the data directory.
const LDAPStateFile = "ldap-sync.json"

// ReadMode says how a Read learnt what the directory holds.
type ReadMode string

// The read modes, best first. A server offers an incremental mode by
// listing its control in the root DSE's supportedControl (RFC 4512 §5.1).
const (
	// ModeSyncrepl is the LDAP Content Synchronization operation (RFC 4533)
	// in refreshOnly mode, with the server's cookie kept between runs:
	// OpenLDAP with the syncprov overlay.
	ModeSyncrepl ReadMode = "syncrepl"
	// ModeDirSync is Active Directory's DirSync control ([MS-ADTS]
	// 3.1.1.3.4.1.3), with its cookie kept between runs.
	ModeDirSync ReadMode = "dirsync"
	// ModeUSN reads the entries whose uSNChanged passed the highest
	// committed USN of the last run: Active Directory when the account
	// lacks the right to DirSync. USNs count per domain controller.
	ModeUSN ReadMode = "usn"
	// ModeFull is a paged search of the whole directory (RFC 2696).
	ModeFull ReadMode = "full"
)

// ReadStats describes one Read.
type ReadStats struct {
	Mode ReadMode
	// Full is set when the batch is a full compare: the first run, a state
	// the server refused, or a server without incremental reads.
	Full bool
	// Entries counts the entries the server returned with their content.
	Entries int
	// Deletes counts the entries the server reported gone.
	Deletes int
	// Present counts the unchanged entries a present phase listed.
	Present int
	// Fallback says why an incremental read became a full compare.
	Fallback string
}

// LDAPSource reads the on-prem directory from Active Directory or any LDAP
// server holding the same attributes, binding as a service account.
//
// With a StatePath it reads incrementally where the server offers it: each
// Read asks the root DSE what the server offers (see ReadMode), then asks
// for the changes since the state that Commit kept after the cloud accepted
// the previous run. Deletions come as deletes in the batch (LDAP Sync's
// delete phase, AD tombstones) or, after an LDAP Sync present phase, as a
// full batch listing the unchanged users as present; either way the cloud's
// deletion threshold and cloud-only protection apply. Without a state, with
// a state the server refuses, or with a server that offers nothing, a Read
// is a full compare. An LDAPSource is not for concurrent use.
type LDAPSource struct {
	URL      string // ldap://host:port or ldaps://host:port
	BindDN   string
	Password string
	BaseDN   string
	Filter   string // default DefaultLDAPFilter
	PageSize uint32 // default DefaultLDAPPageSize
	// TLSConfig is the TLS configuration of an ldaps:// URL; nil trusts
	// the system's certificate authorities (SSL_CERT_FILE and
	// SSL_CERT_DIR add others) and checks the host name.
	TLSConfig *tls.Config
	// StatePath is the file that keeps the incremental-read state (mode,
	// cookie, watermark) between runs. Empty: every run is a full compare.
	StatePath string

	dial    func(url string) (ldap.Client, error) // tests replace the server
	pending *ldapCursor                           // the state of the last Read
	dns     map[string]string                     // the DNs the last Read saw
	last    ReadStats
}

// ldapRead is one read: the batch, the state that follows it, the stats,
// and the DN of each entry read (by immutable id).
type ldapRead struct {
	batch directory.Batch
	next  ldapCursor
	stats ReadStats
	dns   map[string]string
}

// Read returns the changes of the directory's mailbox users since the
// committed state, or all of them as a full batch (a full compare, which
// the cloud turns into deletes for synced users no longer listed).
func (s *LDAPSource) Read(ctx context.Context) (directory.Batch, error) {
	s.pending, s.last = nil, ReadStats{}
	c, err := s.connect()
	if err != nil {
		return directory.Batch{}, err
	}
	defer c.Close()
	dse, err := readRootDSE(c)
	if err != nil {
		return directory.Batch{}, err
	}
	prev, note := s.loadCursor()
	r, err := s.read(ctx, c, dse, prev)
	if err != nil {
		return directory.Batch{}, err
	}
	if r.stats.Fallback == "" && r.stats.Full {
		r.stats.Fallback = note
	}
	if err := s.resend(ctx, c, prev.Pending, &r); err != nil {
		return directory.Batch{}, err
	}
	r.next.Source = s.identity()
	s.pending, s.dns, s.last = &r.next, r.dns, r.stats
	return r.batch, nil
}

// LastRead describes the last Read.
func (s *LDAPSource) LastRead() ReadStats { return s.last }

// Commit keeps the state of the last Read once the cloud has applied its
// batch (sum is the cloud's answer), so that the next Read asks only for
// what changed since. What the cloud left undone is kept with it: the
// deletions it held, sent again by every run until an admin confirms
// them, and the entries that failed or collided, read again by the next
// run, so that reads stay incremental and nothing is lost. A run that
// failed never reaches Commit.
func (s *LDAPSource) Commit(sum directory.Summary) error {
	next := s.pending
	s.pending = nil
	if next == nil || s.StatePath == "" {
		return nil
	}
	next.Pending = pending{}
	for _, p := range sum.Problems {
		if p.Held {
			next.Pending.Deletes = append(next.Pending.Deletes, p.ImmutableID)
			continue
		}
		dn := p.DN
		if dn == "" {
			dn = s.dns[p.ImmutableID]
		}
		if dn == "" {
			// An entry the cloud failed that this read did not name: keep
			// the old state, so that the next run reads it again.
			return nil
		}
		next.Pending.Reread = append(next.Pending.Reread, dn)
	}
	return saveCursor(s.StatePath, *next)
}

// resend adds to a read what the last run left undone: its held
// deletions, unless the entry is back, and its failed entries, read again
// by DN unless this read returned them already (one gone or out of the
// filter since is skipped: the read reports it).
func (s *LDAPSource) resend(ctx context.Context, c ldap.Client, p pending, r *ldapRead) error {
	col := resume(r)
	seen := map[string]bool{}
	for _, dn := range r.dns {
		seen[strings.ToLower(dn)] = true
	}
	for _, f := range r.batch.Failed {
		seen[strings.ToLower(f.DN)] = true
	}
	for _, dn := range p.Reread {
		if seen[strings.ToLower(dn)] {
			continue
		}
		req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0,
			false, s.filter(), ldapAttributes, nil)
		res, err := c.Search(req)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ldap re-read %s: %w", dn, err)
		}
		for _, e := range res.Entries {
			if err := col.add(e); err != nil {
				return err
			}
		}
	}
	r.batch, r.stats = col.batch, col.stats
	back := map[string]bool{}
	for _, u := range r.batch.Upserts {
		back[u.ImmutableID] = true
	}
	for _, id := range r.batch.Deletes {
		back[id] = true // deleted again: once is enough
	}
	for _, id := range p.Deletes {
		if !back[id] {
			r.batch.Deletes = append(r.batch.Deletes, id)
		}
	}
	return ctx.Err()
}

func (s *LDAPSource) connect() (ldap.Client, error) {
	dial := s.dial
	if dial == nil {
		dial = func(url string) (ldap.Client, error) {
			if s.TLSConfig != nil {
				return ldap.DialURL(url, ldap.DialWithTLSConfig(s.TLSConfig))
			}
			return ldap.DialURL(url)
		}
	}
	c, err := dial(s.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap dial: %w", err)
	}
	if err := c.Bind(s.BindDN, s.Password); err != nil {
		c.Close()
		return nil, fmt.Errorf("ldap bind: %w", err)
	}
	return c, nil
}

// read reads in the mode the server offers, falling back to a full read
// when the server refuses the kept state.
func (s *LDAPSource) read(ctx context.Context, c ldap.Client, dse rootDSE, prev ldapCursor) (
	ldapRead, error) {
	mode := dse.choose(prev.Mode)
	if prev.Mode != mode {
		prev = ldapCursor{}
	}
	r, err := s.readMode(ctx, c, dse, mode, prev)
	if err != nil && prev.positioned() && refused(err) {
		// RFC 4533 §3.3.1 (e-syncRefreshRequired) and AD's answer to a
		// stale DirSync cookie both say: start again from nothing.
		reason := fmt.Sprintf("the server refused the %s state: %v", mode, err)
		r, err = s.readMode(ctx, c, dse, mode, ldapCursor{})
		r.stats.Fallback = reason
	}
	if mode == ModeDirSync && ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		r, err = s.readUSN(ctx, c, dse, ldapCursor{})
		r.stats.Fallback = "the account may not use DirSync; reading uSNChanged"
	}
	if mode == ModeSyncrepl {
		r, err = s.syncreplFallback(ctx, c, r, err)
	}
	return r, err
}

// syncreplFallback reads the directory with a paged search when LDAP Sync
// is not available for this base or this account.
func (s *LDAPSource) syncreplFallback(ctx context.Context, c ldap.Client, r ldapRead,
	err error) (ldapRead, error) {
	var reason string
	switch {
	case ldap.IsErrorWithCode(err, ldap.LDAPResultUnavailableCriticalExtension):
		// The control is loaded but not configured on this database.
		reason = "the server offers no LDAP Sync on this base"
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		// LDAP Sync cannot be paged: the account's size limit (slapd's
		// default is 500 entries) must cover the directory.
		reason = "the account's size limit stops LDAP Sync; raise it to read incrementally"
	default:
		return r, err
	}
	r, err = s.readFull(ctx, c)
	r.stats.Fallback = reason
	return r, err
}

func (s *LDAPSource) readMode(ctx context.Context, c ldap.Client, dse rootDSE, mode ReadMode,
	prev ldapCursor) (ldapRead, error) {
	switch mode {
	case ModeSyncrepl:
		return s.readSyncrepl(ctx, c, prev)
	case ModeDirSync:
		return s.readDirSync(ctx, c, dse, prev)
	case ModeUSN:
		return s.readUSN(ctx, c, dse, prev)
	}
	return s.readFull(ctx, c)
}

// refused reports whether err is the server's answer to a request (rather
// than a broken connection), the way a server refuses a state it no longer
// knows.
func refused(err error) bool {
	var le *ldap.Error
	if !errors.As(err, &le) {
		return false
	}
	return le.ResultCode < ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultSyncRefreshRequired
}

// readFull reads the whole directory with a paged search.
func (s *LDAPSource) readFull(ctx context.Context, c ldap.Client) (ldapRead, error) {
	col := newCollector(ModeFull, false)
	err := s.pagedSearch(ctx, c, s.BaseDN, s.filter(), ldapAttributes, nil, col.add)
	if err != nil {
		return ldapRead{}, err
	}
	return ldapRead{batch: col.done(), dns: col.dns, next: ldapCursor{Mode: ModeFull}, stats: col.stats}, nil
}

// pagedSearch runs a paged search under base and hands each entry to fn.
func (s *LDAPSource) pagedSearch(ctx context.Context, c ldap.Client, base, filter string,
	attrs []string, controls []ldap.Control, fn func(*ldap.Entry) error) error {
	size := s.PageSize
	if size == 0 {
		size = DefaultLDAPPageSize
	}
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, attrs, controls)
	res, err := c.SearchWithPaging(req, size)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		// Paging (RFC 2696) keeps each page under the server's limit, but
		// OpenLDAP also caps a paged search's total at the account's hard
		// size limit (500 by default; slapd.conf(5), limits size.prtotal).
		return fmt.Errorf("ldap search: the server's size limit for %s stopped the paged "+
			"search before the end of %s; raise the account's limit (OpenLDAP: limits "+
			"dn.exact=\"%s\" size.prtotal=unlimited): %w", s.BindDN, base, s.BindDN, err)
	}
	if err != nil {
		return fmt.Errorf("ldap search: %w", err)
	}
	for _, e := range res.Entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// filter returns the configured filter, parenthesised so that it can be
// combined with others.
func (s *LDAPSource) filter() string {
	f := strings.TrimSpace(s.Filter)
	switch {
	case f == "":
		return DefaultLDAPFilter
	case !strings.HasPrefix(f, "("):
		return "(" + f + ")"
	}
	return f
}

// identity names the directory a state belongs to: a state read from
// another server, base or filter says nothing about this one.
func (s *LDAPSource) identity() string {
	return s.URL + " " + s.BaseDN + " " + s.filter()
}
