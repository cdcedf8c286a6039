package dirsync

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// dirSyncObjectSecurity is the DirSync flag LDAP_DIRSYNC_OBJECT_SECURITY
// ([MS-ADTS] 3.1.1.3.4.1.3): the server returns what the account may read,
// so that an account without the Replicating Directory Changes right can
// use DirSync.
// TODO: DirSync and uSNChanged reads are tested against a model of a
// domain controller only; whether tombstones reach an account without
// rights on Deleted Objects under this flag is unverified on a real AD.
const dirSyncObjectSecurity = 0x1

// dirSyncPagesMax bounds one read: a server that keeps saying "more data"
// without end is broken.
const dirSyncPagesMax = 100000

// deletedUsers selects the tombstones of users: a tombstone keeps its
// objectClass and objectGUID but loses the Exchange attributes.
const deletedUsers = "(&(isDeleted=TRUE)(objectClass=user))"

// readDirSync reads with Active Directory's DirSync control. Without a
// cookie it returns every object (a full compare); with one, the objects
// changed since, each with only its changed attributes, and the deleted
// ones as tombstones (isDeleted TRUE, kept in Deleted Objects). DirSync
// reads from the root of a naming context, so entries outside BaseDN are
// filtered here.
func (s *LDAPSource) readDirSync(ctx context.Context, c ldap.Client, dse rootDSE,
	prev ldapCursor) (ldapRead, error) {
	col := newCollector(ModeDirSync, len(prev.Cookie) > 0)
	cookie := prev.Cookie
	filter := "(|" + s.filter() + deletedUsers + ")"
	attrs := append(append([]string{}, ldapAttributes...), "isDeleted")
	for page := 0; ; page++ {
		if err := ctx.Err(); err != nil {
			return ldapRead{}, err
		}
		if page == dirSyncPagesMax {
			return ldapRead{}, errors.New("ldap dirsync: the server never said it was done")
		}
		// A fresh request per page: go-ldap keeps a DirSync control already
		// on the request, and with it the cookie of the page before.
		req := ldap.NewSearchRequest(dse.namingContext, ldap.ScopeWholeSubtree,
			ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
		res, err := c.DirSync(req, dirSyncObjectSecurity, 0, cookie)
		if err != nil {
			return ldapRead{}, fmt.Errorf("ldap dirsync: %w", err)
		}
		for _, e := range res.Entries {
			if err := s.dirSyncEntry(c, col, e); err != nil {
				return ldapRead{}, err
			}
		}
		ctl, _ := ldap.FindControl(res.Controls, ldap.ControlTypeDirSync).(*ldap.ControlDirSync)
		if ctl == nil {
			return ldapRead{}, errors.New("ldap dirsync: the answer has no DirSync control")
		}
		cookie = ctl.Cookie
		if ctl.Flags == 0 { // a non-zero flag says more data follows
			break
		}
	}
	return ldapRead{batch: col.done(), dns: col.dns, stats: col.stats,
		next: ldapCursor{Mode: ModeDirSync, Cookie: cookie}}, nil
}

// dirSyncEntry handles one DirSync result.
func (s *LDAPSource) dirSyncEntry(c ldap.Client, col *collector, e *ldap.Entry) error {
	if strings.EqualFold(e.GetAttributeValue("isDeleted"), "TRUE") {
		id, err := entryImmutableID(e)
		if err != nil {
			return fmt.Errorf("ldap tombstone %s: %w", e.DN, err)
		}
		col.gone(id)
		return nil
	}
	in, err := s.inBase(e.DN)
	if err != nil {
		return err
	}
	if !col.incremental {
		if in {
			return col.add(e)
		}
		return nil
	}
	// An incremental answer carries only the changed attributes: read
	// the whole object. One that left BaseDN left sync.
	whole := e
	if in {
		if whole, err = readByGUID(c, e); err != nil {
			return err
		}
	}
	if whole == nil || !in {
		id, err := entryImmutableID(e)
		if err != nil {
			return fmt.Errorf("ldap entry %s: %w", e.DN, err)
		}
		col.batch.Deletes = append(col.batch.Deletes, id)
		return nil
	}
	return col.add(whole)
}

// readByGUID reads an object whole by its objectGUID, with AD's
// <GUID=…> extended DN form ([MS-ADTS] 3.1.1.3.1.2.4). nil: it is gone.
func readByGUID(c ldap.Client, e *ldap.Entry) (*ldap.Entry, error) {
	raw := e.GetRawAttributeValue("objectGUID")
	if len(raw) != 16 {
		return nil, fmt.Errorf("ldap entry %s: no objectGUID", e.DN)
	}
	req := ldap.NewSearchRequest("<GUID="+hex.EncodeToString(raw)+">", ldap.ScopeBaseObject,
		ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", ldapAttributes, nil)
	res, err := c.Search(req)
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ldap read %s: %w", e.DN, err)
	}
	if len(res.Entries) == 0 {
		return nil, nil
	}
	return res.Entries[0], nil
}

// inBase reports whether dn lies under BaseDN.
func (s *LDAPSource) inBase(dn string) (bool, error) {
	if s.BaseDN == "" {
		return true, nil
	}
	base, err := ldap.ParseDN(s.BaseDN)
	if err != nil {
		return false, fmt.Errorf("base DN: %w", err)
	}
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return false, fmt.Errorf("ldap entry %q: %w", dn, err)
	}
	return base.EqualFold(d) || base.AncestorOfFold(d), nil
}

// readUSN reads the entries whose uSNChanged passed the watermark, the
// highest committed USN the domain controller had when the last run
// began. Changes made during a run are read again by the next, which is
// harmless. Deletions are read as tombstones with the Show Deleted control
// ([MS-ADTS] 3.1.1.3.4.1.14); users that left the filter count as deleted.
func (s *LDAPSource) readUSN(ctx context.Context, c ldap.Client, dse rootDSE,
	prev ldapCursor) (ldapRead, error) {
	next := ldapCursor{Mode: ModeUSN, USN: dse.highestUSN, Server: dse.server}
	if !prev.positioned() || prev.Server != dse.server {
		r, err := s.readFull(ctx, c)
		r.stats.Mode, r.next = ModeUSN, next
		if err == nil && prev.positioned() {
			r.stats.Fallback = "USNs of another domain controller"
		}
		return r, err
	}
	col := newCollector(ModeUSN, true)
	since := fmt.Sprintf("(uSNChanged>=%d)", prev.USN+1)
	if err := s.pagedSearch(ctx, c, s.BaseDN, "(&"+s.filter()+since+")", ldapAttributes,
		nil, col.add); err != nil {
		return ldapRead{}, err
	}
	gone := func(e *ldap.Entry) error {
		id, err := entryImmutableID(e)
		if err != nil {
			return fmt.Errorf("ldap entry %s: %w", e.DN, err)
		}
		col.gone(id)
		return nil
	}
	left := "(&(objectClass=user)" + since + "(!" + s.filter() + "))"
	if err := s.pagedSearch(ctx, c, s.BaseDN, left, []string{"objectGUID"}, nil,
		gone); err != nil {
		return ldapRead{}, err
	}
	// Tombstones live in the Deleted Objects container of the naming
	// context, outside any BaseDN below it.
	deleted := "(&" + deletedUsers + since + ")"
	showDeleted := []ldap.Control{ldap.NewControlMicrosoftShowDeleted()}
	if err := s.pagedSearch(ctx, c, dse.namingContextOr(s.BaseDN), deleted,
		[]string{"objectGUID"}, showDeleted, gone); err != nil {
		return ldapRead{}, err
	}
	return ldapRead{batch: col.done(), dns: col.dns, stats: col.stats, next: next}, nil
}
