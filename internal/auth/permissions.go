package auth

import (
	"net/http"
	"slices"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Permission lists the scopes (delegated) and app roles (application) any
// one of which allows an operation. The lists follow the "Permissions"
// section of each Graph v1.0 API page, least privileged first.
type Permission struct {
	Delegated   []string
	Application []string
}

// Permissions per operation family (Graph v1.0 API reference; the mail
// rows are the user-list-messages, message-get, message-update,
// user-sendmail and mailfolder-* pages). The delegated ".Shared" scopes
// also cover the caller's own mailbox, so they appear in each list;
// CanAccess decides whether another user's mailbox may be touched.
var (
	// MailRead covers listing and getting messages, folders and their delta.
	MailRead = Permission{
		Delegated: []string{"Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite",
			"Mail.Read.Shared", "Mail.ReadWrite.Shared"},
		Application: []string{"Mail.ReadBasic.All", "Mail.Read", "Mail.ReadWrite"},
	}
	// MailWrite covers creating, updating, moving and deleting messages and
	// folders, and creating drafts (createReply and friends).
	MailWrite = Permission{
		Delegated:   []string{"Mail.ReadWrite", "Mail.ReadWrite.Shared"},
		Application: []string{"Mail.ReadWrite"},
	}
	// MailSend covers sendMail, send, reply, replyAll and forward.
	MailSend = Permission{
		Delegated:   []string{"Mail.Send", "Mail.Send.Shared"},
		Application: []string{"Mail.Send"},
	}
	// MailboxSettingsRead covers mailboxSettings, inbox rules and categories.
	MailboxSettingsRead = Permission{
		Delegated:   []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
		Application: []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"},
	}
	// MailboxSettingsWrite covers changing them.
	MailboxSettingsWrite = Permission{
		Delegated:   []string{"MailboxSettings.ReadWrite"},
		Application: []string{"MailboxSettings.ReadWrite"},
	}
	// CalendarsRead covers events, calendarView, calendars and groups.
	CalendarsRead = Permission{
		Delegated: []string{"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite",
			"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"},
		Application: []string{"Calendars.ReadBasic", "Calendars.Read", "Calendars.ReadWrite"},
	}
	// CalendarsWrite covers creating, updating and answering events.
	CalendarsWrite = Permission{
		Delegated:   []string{"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"},
		Application: []string{"Calendars.ReadWrite"},
	}
	// ContactsRead covers contacts and contact folders.
	ContactsRead = Permission{
		Delegated: []string{"Contacts.Read", "Contacts.ReadWrite",
			"Contacts.Read.Shared", "Contacts.ReadWrite.Shared"},
		Application: []string{"Contacts.Read", "Contacts.ReadWrite"},
	}
	// ContactsWrite covers changing them.
	ContactsWrite = Permission{
		Delegated:   []string{"Contacts.ReadWrite", "Contacts.ReadWrite.Shared"},
		Application: []string{"Contacts.ReadWrite"},
	}
	// UserRead covers reading user profiles and the outlook user helpers
	// (supportedTimeZones, translateExchangeIds).
	UserRead = Permission{
		Delegated:   []string{"User.Read", "User.ReadBasic.All", "User.Read.All"},
		Application: []string{"User.Read.All"},
	}
	// ProfileRead covers reading one's own user (GET /me) and any user
	// the caller may read (user-get: User.Read least privileged for
	// oneself, Directory.Read.All the broadest).
	ProfileRead = Permission{
		Delegated: []string{"User.Read", "User.ReadWrite", "User.ReadBasic.All",
			"User.Read.All", "Directory.Read.All"},
		Application: []string{"User.Read.All", "Directory.Read.All"},
	}
	// UsersRead covers reading other users and listing them (user-list).
	UsersRead = Permission{
		Delegated:   []string{"User.ReadBasic.All", "User.Read.All", "Directory.Read.All"},
		Application: []string{"User.Read.All", "Directory.Read.All"},
	}
	// UsersReadFull covers the full profile of other users: every
	// property, where User.ReadBasic.All reads only the basic profile
	// (BasicProfileOnly).
	UsersReadFull = Permission{
		Delegated: []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All",
			"Directory.ReadWrite.All"},
		Application: []string{"User.Read.All", "Directory.Read.All"},
	}
	// OrganizationRead covers GET /organization (organization-get: User.Read
	// suffices for a signed-in user).
	OrganizationRead = Permission{
		Delegated:   []string{"User.Read", "Organization.Read.All", "Directory.Read.All"},
		Application: []string{"Organization.Read.All", "Directory.Read.All"},
	}
	// DirectorySync covers the directory-sync intake, where the on-prem
	// sync agent pushes its users; only an app holds it, as only the sync
	// service account writes synced objects. The name is Graph's own for
	// the on-premises directory synchronization resource.
	DirectorySync = Permission{
		Application: []string{"OnPremDirectorySynchronization.ReadWrite.All"},
	}
)

// allPermissions is every family above, for KnownRoles.
var allPermissions = []Permission{MailRead, MailWrite, MailSend, MailboxSettingsRead,
	MailboxSettingsWrite, CalendarsRead, CalendarsWrite, ContactsRead, ContactsWrite, UserRead,
	ProfileRead, UsersRead, UsersReadFull, OrganizationRead, DirectorySync}

// KnownRoles returns every application permission this server understands,
// sorted; the token service grants no others.
func KnownRoles() []string {
	var roles []string
	for _, p := range allPermissions {
		roles = append(roles, p.Application...)
	}
	slices.Sort(roles)
	return slices.Compact(roles)
}

// accessDenied is the Outlook workload's answer to a missing permission
// (graph-api.md §5: ErrorAccessDenied, 403).
func accessDenied() *httpserver.Error {
	return httpserver.Errorf(http.StatusForbidden, "ErrorAccessDenied",
		"Access is denied. Check credentials and try again.")
}

// Require returns nil if p holds one of perm's delegated scopes (for a
// delegated caller) or application roles (for an app), else a 403
// ErrorAccessDenied. Permission names are compared without regard to case.
func Require(p *Principal, perm Permission) error {
	if p == nil {
		return accessDenied()
	}
	if holdsAny(p.grants(), perm.allowed(p)) {
		return nil
	}
	return accessDenied()
}

// RequireDirectory is Require for directory objects (users, the
// organisation), whose refusal Graph words in the directory's terms:
// 403 Authorization_RequestDenied, "Insufficient privileges to complete
// the operation." (the mailbox APIs answer ErrorAccessDenied).
func RequireDirectory(p *Principal, perm Permission) error {
	if err := Require(p, perm); err != nil {
		return httpserver.Errorf(http.StatusForbidden, "Authorization_RequestDenied",
			"Insufficient privileges to complete the operation.")
	}
	return nil
}

// CanAccess checks that p may use perm on the mailbox of the user whose
// object id is target. Apps act tenant-wide, so only Require applies to
// them. A delegated caller reaches its own mailbox, and another user's only
// through a ".Shared" scope in perm (permissions reference: "Mail.Read.Shared
// ... mail a user can access, including their own and shared mail").
// Whether that user actually shared the folder is the mailbox's concern.
func CanAccess(p *Principal, target string, perm Permission) error {
	if err := Require(p, perm); err != nil {
		return err
	}
	if !p.Delegated || strings.EqualFold(p.UserObjectID, target) {
		return nil
	}
	var shared []string
	for _, s := range perm.Delegated {
		if strings.HasSuffix(s, ".Shared") {
			shared = append(shared, s)
		}
	}
	if holdsAny(p.Scopes, shared) {
		return nil
	}
	return accessDenied()
}

// CanAccessMailbox is CanAccess for mail: read needs MailRead, write needs
// MailWrite. For sending as another user use CanAccess with MailSend.
func CanAccessMailbox(p *Principal, target string, write bool) error {
	if write {
		return CanAccess(p, target, MailWrite)
	}
	return CanAccess(p, target, MailRead)
}

// BasicProfile is the basic profile of a user, the properties that
// User.ReadBasic.All reads of other users (permissions reference,
// User.ReadBasic.All: "display name, first and last name, email address,
// open extensions and photo"; the user resource's id and UPN name it).
var BasicProfile = []string{"id", "displayName", "givenName", "surname", "mail",
	"userPrincipalName", "photo", "securityIdentifier"}

// BasicProfileOnly reports whether p may read only the basic profile of
// the user whose object id is target: a delegated caller reading another
// user without a scope that reads full profiles (UsersReadFull). Graph
// answers such a read with the other properties null rather than refused.
// Every caller reads its own full profile (User.Read).
func BasicProfileOnly(p *Principal, target string) bool {
	if p == nil || !p.Delegated || strings.EqualFold(p.UserObjectID, target) {
		return false
	}
	return !holdsAny(p.Scopes, UsersReadFull.Delegated)
}

// BasicOnly reports whether p may read mail only through Mail.ReadBasic or
// Mail.ReadBasic.All. Such callers must not see body, bodyPreview,
// uniqueBody, attachments or extended properties, nor use $search
// (permissions reference, graph-api.md §1).
func BasicOnly(p *Principal) bool {
	full := slices.DeleteFunc(slices.Clone(MailRead.allowed(p)), func(s string) bool {
		return strings.HasPrefix(s, "Mail.ReadBasic")
	})
	return Require(p, MailRead) == nil && !holdsAny(p.grants(), full)
}

func (perm Permission) allowed(p *Principal) []string {
	if p.Delegated {
		return perm.Delegated
	}
	return perm.Application
}

func (p *Principal) grants() []string {
	if p.Delegated {
		return p.Scopes
	}
	return p.Roles
}

func holdsAny(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}
