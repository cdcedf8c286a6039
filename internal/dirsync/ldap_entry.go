package dirsync

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// collector builds the batch of one read. An incremental read names only
// what changed, so an entry it returns that is no longer a synced
// recipient (a mailbox turned contact, say) is a delete: it left sync.
type collector struct {
	batch       directory.Batch
	stats       ReadStats
	incremental bool
	index       map[string]int    // immutable id → position in batch.Upserts
	dns         map[string]string // immutable id → DN, to re-read a failed entry
	// presentPhase is set once an LDAP Sync present phase began.
	presentPhase bool
}

func newCollector(mode ReadMode, incremental bool) *collector {
	return &collector{stats: ReadStats{Mode: mode, Full: !incremental},
		incremental: incremental, index: map[string]int{}, dns: map[string]string{}}
}

// resume continues the collector of a finished read, to add entries to it.
func resume(r *ldapRead) *collector {
	c := &collector{batch: r.batch, stats: r.stats, incremental: true,
		index: map[string]int{}, dns: r.dns}
	if c.dns == nil {
		c.dns = map[string]string{}
		r.dns = c.dns
	}
	for i, u := range r.batch.Upserts {
		c.index[u.ImmutableID] = i
	}
	return c
}

// add maps one entry returned with its content. An entry that cannot be
// synced (a malformed GUID, no UPN) is a failed entry of the batch, named
// by its DN; the rest of the read goes on.
func (c *collector) add(e *ldap.Entry) error {
	c.stats.Entries++
	u, ok, err := sourceUser(e)
	if err == nil && ok {
		if reason := u.Invalid(); reason != "" {
			err = errors.New(reason)
		}
	}
	if err != nil {
		id, _ := entryImmutableID(e)
		c.batch.Failed = append(c.batch.Failed, directory.Problem{ImmutableID: id,
			UPN: e.GetAttributeValue("userPrincipalName"), DN: e.DN, Reason: err.Error()})
		return nil
	}
	if !ok {
		if !c.incremental {
			return nil
		}
		id, err := entryImmutableID(e)
		if err != nil {
			c.batch.Failed = append(c.batch.Failed, directory.Problem{DN: e.DN,
				Reason: err.Error()})
			return nil
		}
		c.batch.Deletes = append(c.batch.Deletes, id)
		return nil
	}
	c.dns[u.ImmutableID] = e.DN
	// A server may report one entry twice in a read (a change during the
	// refresh): the last report wins.
	if i, ok := c.index[u.ImmutableID]; ok {
		c.batch.Upserts[i] = u
		return nil
	}
	c.index[u.ImmutableID] = len(c.batch.Upserts)
	c.batch.Upserts = append(c.batch.Upserts, u)
	return nil
}

// gone records an entry the server reported deleted.
func (c *collector) gone(immutableID string) {
	c.stats.Deletes++
	c.batch.Deletes = append(c.batch.Deletes, immutableID)
}

// present records an unchanged entry listed by a present phase.
func (c *collector) present(immutableID string) {
	c.stats.Present++
	c.presentPhase = true
	c.batch.Present = append(c.batch.Present, immutableID)
}

func (c *collector) done() directory.Batch {
	c.batch.Full = c.stats.Full
	return c.batch
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
	if u.ImmutableID, err = entryImmutableID(e); err != nil {
		return u, false, err
	}
	u.MailboxGUID, err = mailboxGUID(e.GetRawAttributeValue("msExchMailboxGuid"))
	if err != nil {
		return u, false, err
	}
	if u.Database, err = databaseName(e.GetAttributeValue("homeMDB")); err != nil {
		return u, false, err
	}
	u.UPN = e.GetAttributeValue("userPrincipalName")
	u.DisplayName = e.GetAttributeValue("displayName")
	primary, secondary := smtpAddresses(e.GetAttributeValues("proxyAddresses"))
	u.Mail, u.ProxyAddresses = e.GetAttributeValue("mail"), secondary
	if primary != "" {
		// Exchange keeps mail equal to the primary proxy address; where
		// they differ, the proxy address is the one mail is delivered to.
		u.Mail = primary
	}
	return u, true, nil
}

// entryImmutableID derives the immutable id from AD's objectGUID (already
// the bytes the id encodes) or from the entryUUID of other servers.
func entryImmutableID(e *ldap.Entry) (string, error) {
	if raw := e.GetRawAttributeValue("objectGUID"); len(raw) == 16 {
		return base64.StdEncoding.EncodeToString(raw), nil
	}
	id := e.GetAttributeValue("entryUUID")
	if id == "" {
		return "", errors.New("entry has neither objectGUID nor entryUUID")
	}
	return ImmutableID(id)
}

// smtpAddresses splits proxyAddresses: "SMTP:" marks the primary address,
// "smtp:" a secondary one; other prefixes (X500:, SIP:, …) are not mail
// addresses and are ignored, as are values without an "@".
func smtpAddresses(values []string) (primary string, secondary []string) {
	for _, v := range values {
		prefix, addr, ok := strings.Cut(v, ":")
		addr = strings.TrimSpace(addr)
		if !ok || !strings.EqualFold(prefix, "smtp") || !strings.Contains(addr, "@") {
			continue
		}
		if prefix == "SMTP" && primary == "" {
			primary = addr
			continue
		}
		secondary = append(secondary, addr)
	}
	return primary, secondary
}

// databaseName reads the mailbox database from homeMDB, the DN of the
// database object: its name is the CN of the first RDN
// ("CN=DB01,CN=Databases,CN=Exchange Administrative Group …").
func databaseName(homeMDB string) (string, error) {
	if homeMDB == "" {
		return "", nil
	}
	dn, err := ldap.ParseDN(homeMDB)
	if err != nil {
		return "", fmt.Errorf("homeMDB: %w", err)
	}
	if len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 ||
		!strings.EqualFold(dn.RDNs[0].Attributes[0].Type, "cn") {
		return "", fmt.Errorf("homeMDB %q does not start with a CN", homeMDB)
	}
	return dn.RDNs[0].Attributes[0].Value, nil
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
