package graph

import (
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
)

// directoryRelationships are the relationships of a user that Graph serves
// from the directory, not from the mailbox (user resource,
// "Relationships"). They answer alike wherever the mailbox lives and never
// reach the hybrid router, whose preview error is for mailbox APIs only
// (exchange-hybrid.md §5: the hybrid service proxied Mail, Calendar and
// Contacts; the directory was always the cloud's).
var directoryRelationships = []string{"manager", "directReports", "memberOf",
	"transitiveMemberOf", "ownedObjects", "ownedDevices", "registeredDevices",
	"createdObjects", "licenseDetails", "appRoleAssignments", "oauth2PermissionGrants",
	"photo", "photos"}

// isDirectoryRelationship reports whether a user path segment names one
// of directoryRelationships.
func isDirectoryRelationship(seg mailapi.Segment) bool {
	return mailapi.InFamily(seg.Name, directoryRelationships)
}

// userRelationship answers a path into one of the user's directory
// relationships, after the permission a read of the user needs.
func (s *Server) userRelationship(r *http.Request, p *auth.Principal, version string,
	u directory.User, rest []mailapi.Segment) error {
	if err := directoryRead(r, version); err != nil {
		return err
	}
	perm := auth.UsersRead
	if p.Delegated && p.UserObjectID == u.ObjectID {
		perm = auth.ProfileRead
	}
	if err := auth.RequireDirectory(p, perm); err != nil {
		return err
	}
	name := rest[0].Name
	if rest[0].Is("manager") {
		// The directory records no manager for anyone, and Graph answers a
		// user without one so (user-list-manager).
		return notFoundInDirectory(name)
	}
	// TODO: groups, reports, devices, licences and photos are not kept in
	// the directory; clients that read them get this 501.
	return httpserver.Errorf(http.StatusNotImplemented, "NotImplemented",
		"The '%s' relationship of users is not served: the directory holds users and "+
			"their mailboxes only.", name)
}
