package dirsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ldapCursor is what an incremental read needs from the run before: the
// mode it read in and the server's position (a cookie, or a USN and the
// domain controller it counts on). It is kept as JSON in StatePath.
type ldapCursor struct {
	Source  string    `json:"source"`
	Mode    ReadMode  `json:"mode"`
	Cookie  []byte    `json:"cookie,omitempty"`
	USN     int64     `json:"usn,omitempty"`
	Server  string    `json:"server,omitempty"`
	SavedAt time.Time `json:"savedAt"`
	// Pending is what the cloud left undone in the run that saved the
	// cursor; the next read sends it again, so that a held deletion or a
	// failed entry is not lost while reads move on.
	Pending pending `json:"pending,omitzero"`
}

// pending is the part of the last run the cloud did not apply: deletions
// it held back (by immutable id; the server reports a deletion once) and
// entries that failed or collided (by DN, re-read at the next run).
type pending struct {
	Deletes []string `json:"deletes,omitempty"`
	Reread  []string `json:"reread,omitempty"`
}

// positioned reports whether the cursor holds a position to read from.
func (c ldapCursor) positioned() bool { return len(c.Cookie) > 0 || c.USN > 0 }

// loadCursor reads the kept state. A missing, unreadable or foreign state
// is no state: the read becomes a full compare, and note says why.
func (s *LDAPSource) loadCursor() (ldapCursor, string) {
	if s.StatePath == "" {
		return ldapCursor{}, ""
	}
	b, err := os.ReadFile(s.StatePath)
	if errors.Is(err, os.ErrNotExist) {
		return ldapCursor{}, "no sync state yet"
	}
	var c ldapCursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return ldapCursor{}, fmt.Sprintf("sync state unreadable: %v", err)
	}
	if c.Source != s.identity() {
		return ldapCursor{}, "sync state is of another server, base or filter"
	}
	return c, ""
}

// saveCursor writes the state atomically: a crash leaves the old one.
func saveCursor(path string, c ldapCursor) error {
	c.SavedAt = time.Now().UTC()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode sync state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sync-state-*")
	if err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("save sync state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save sync state: %w", err)
	}
	return nil
}

// Controls and root DSE attributes that name what a server offers.
const (
	oidSyncRequest = "1.3.6.1.4.1.4203.1.9.1.1" // RFC 4533 §2.2
	oidDirSync     = "1.2.840.113556.1.4.841"   // [MS-ADTS] 3.1.1.3.4.1.3
)

// rootDSE is what the server's root DSE (RFC 4512 §5.1) says about it.
type rootDSE struct {
	controls map[string]bool
	// highestUSN is AD's highestCommittedUSN; zero elsewhere.
	highestUSN int64
	// server is AD's dsServiceName: the domain controller USNs count on.
	server string
	// namingContext is AD's defaultNamingContext, the root DirSync reads.
	namingContext string
}

func readRootDSE(c ldap.Client) (rootDSE, error) {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0,
		false, "(objectClass=*)", []string{"supportedControl", "highestCommittedUSN",
			"dsServiceName", "defaultNamingContext"}, nil)
	res, err := c.Search(req)
	if err != nil {
		return rootDSE{}, fmt.Errorf("ldap root DSE: %w", err)
	}
	d := rootDSE{controls: map[string]bool{}}
	if len(res.Entries) == 0 {
		return d, nil
	}
	e := res.Entries[0]
	for _, oid := range e.GetAttributeValues("supportedControl") {
		d.controls[oid] = true
	}
	if v := e.GetAttributeValue("highestCommittedUSN"); v != "" {
		if d.highestUSN, err = strconv.ParseInt(v, 10, 64); err != nil {
			return rootDSE{}, fmt.Errorf("ldap root DSE: highestCommittedUSN %q: %w", v, err)
		}
	}
	d.server = e.GetAttributeValue("dsServiceName")
	d.namingContext = e.GetAttributeValue("defaultNamingContext")
	return d, nil
}

// namingContextOr returns the default naming context, else base.
func (d rootDSE) namingContextOr(base string) string {
	if d.namingContext != "" {
		return d.namingContext
	}
	return base
}

// offers reports whether the server offers a read mode.
func (d rootDSE) offers(m ReadMode) bool {
	switch m {
	case ModeSyncrepl:
		return d.controls[oidSyncRequest]
	case ModeDirSync:
		return d.controls[oidDirSync] && d.namingContext != ""
	case ModeUSN:
		return d.highestUSN > 0
	case ModeFull:
		return true
	}
	return false
}

// choose picks the read mode: the one the last run used while the server
// still offers it (an account refused DirSync stays on uSNChanged), else
// the best the server offers.
func (d rootDSE) choose(prev ReadMode) ReadMode {
	if prev != "" && prev != ModeFull && d.offers(prev) {
		return prev
	}
	for _, m := range []ReadMode{ModeSyncrepl, ModeDirSync, ModeUSN} {
		if d.offers(m) {
			return m
		}
	}
	return ModeFull
}
