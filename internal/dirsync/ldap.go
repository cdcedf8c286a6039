package dirsync

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"

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
	"displayName", "msExchRecipientTypeDetails", "msExchMailboxGuid"}

// LDAPSource reads the on-prem directory from Active Directory or any LDAP
// server holding the same attributes, binding as a service account.
type LDAPSource struct {
	URL      string // ldap://host:port or ldaps://host:port
	BindDN   string
	Password string
	BaseDN   string
	Filter   string // default DefaultLDAPFilter
	PageSize uint32 // default DefaultLDAPPageSize
}

// Read returns the directory's mailbox users as a full batch: a full
// compare, which the cloud turns into deletes for users no longer listed.
// TODO: incremental reads (Syncrepl on OpenLDAP, DirSync or uSNChanged on
// AD); without them every run reads the whole directory.
func (s *LDAPSource) Read(ctx context.Context) (directory.Batch, error) {
	conn, err := ldap.DialURL(s.URL)
	if err != nil {
		return directory.Batch{}, fmt.Errorf("ldap dial: %w", err)
	}
	defer conn.Close()
	if err := conn.Bind(s.BindDN, s.Password); err != nil {
		return directory.Batch{}, fmt.Errorf("ldap bind: %w", err)
	}
	filter, size := s.Filter, s.PageSize
	if filter == "" {
		filter = DefaultLDAPFilter
	}
	if size == 0 {
		size = DefaultLDAPPageSize
	}
	req := ldap.NewSearchRequest(s.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, filter, ldapAttributes, nil)
	res, err := conn.SearchWithPaging(req, size)
	if err != nil {
		return directory.Batch{}, fmt.Errorf("ldap search: %w", err)
	}
	b := directory.Batch{Full: true}
	for _, e := range res.Entries {
		if err := ctx.Err(); err != nil {
			return directory.Batch{}, err
		}
		u, ok, err := sourceUser(e)
		if err != nil {
			return directory.Batch{}, fmt.Errorf("ldap entry %s: %w", e.DN, err)
		}
		if ok {
			b.Upserts = append(b.Upserts, u)
		}
	}
	return b, nil
}

// sourceUser maps one entry; ok is false for recipients sync does not carry.
func sourceUser(e *ldap.Entry) (u directory.SourceUser, ok bool, err error) {
	switch e.GetAttributeValue("msExchRecipientTypeDetails") {
	case recipientUserMailbox:
		u.RecipientType = directory.UserMailbox
	case recipientRemoteUserMailbox:
		u.RecipientType = directory.RemoteUserMailbox
	default:
		return u, false, nil
	}
	if raw := e.GetRawAttributeValue("objectGUID"); len(raw) == 16 {
		// AD's objectGUID is already the bytes the immutable id encodes.
		u.ImmutableID = base64.StdEncoding.EncodeToString(raw)
	} else if u.ImmutableID, err = ImmutableID(e.GetAttributeValue("entryUUID")); err != nil {
		return u, false, err
	}
	u.MailboxGUID, err = mailboxGUID(e.GetRawAttributeValue("msExchMailboxGuid"))
	if err != nil {
		return u, false, err
	}
	u.UPN = e.GetAttributeValue("userPrincipalName")
	u.Mail = e.GetAttributeValue("mail")
	u.DisplayName = e.GetAttributeValue("displayName")
	return u, true, nil
}

// mailboxGUID reads msExchMailboxGuid: 16 bytes in AD, with the first three
// fields little-endian as in objectGUID; a GUID string in other servers.
func mailboxGUID(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	if len(raw) == 16 {
		b := []byte{raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]}
		g, err := uuid.FromBytes(append(b, raw[8:]...))
		return g.String(), err
	}
	g, err := uuid.Parse(string(raw))
	if err != nil {
		return "", fmt.Errorf("msExchMailboxGuid: %w", err)
	}
	return g.String(), nil
}
