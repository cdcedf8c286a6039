// Package graph is the Microsoft Graph v1.0 front door of the cloud side.
// For every request it authenticates the caller, finds the target mailbox
// in the cloud directory, and then either serves it from the cloud's
// mailbox engine (through mailapi in the Graph dialect) or hands it to the
// hybrid router when the directory places the mailbox on premises.
//
// Path forms (graph-api.md §1): /v1.0/me/..., /v1.0/users/{id | upn}/...
// and /v1.0/users('{id | upn}')/...; segment names match case-insensitively.
package graph

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/hybrid"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
)

// Server is the Graph front door.
type Server struct {
	Directory *directory.Directory
	Auth      *auth.Validator
	Mail      *mailapi.Face // in the Graph dialect, over the cloud engine
	Router    *hybrid.Router
	// PublicURL is the gateway's base URL as clients reach it, without a
	// trailing slash; links in answers start with it.
	PublicURL string
	// TenantID and Domains describe the organisation (GET /organization);
	// the first domain is the default one.
	TenantID string
	Domains  []string
	Log      *slog.Logger
}

// Handler serves /v1.0/ and /beta/ (beta only to answer on-prem mailboxes
// with the preview error, as the hybrid service did).
func (s *Server) Handler() http.Handler {
	h := httpserver.Handle(httpserver.GraphEnvelope, s.serve)
	return httpserver.Middleware(s.Log, httpserver.GraphEnvelope, h)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	segs, err := mailapi.SplitPath(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	if len(segs) == 0 || (segs[0].Name != "v1.0" && segs[0].Name != "beta") {
		httpserver.SetRoute(r.Context(), "unknown")
		return InvalidVersion()
	}
	version, segs := segs[0].Name, segs[1:]
	httpserver.SetRoute(r.Context(), "/"+version) // refined once the mailbox is known

	principal, err := s.Auth.Authenticate(r)
	if err != nil {
		return err
	}
	if handled, err := s.directoryCollection(w, r, principal, version, segs); handled {
		return err
	}
	user, rest, err := s.target(r, principal, segs)
	if err != nil {
		return err
	}
	httpserver.SetRoute(r.Context(), routeName(version, rest))
	if len(rest) == 0 {
		// The user resource comes from the cloud directory, wherever the
		// mailbox lives.
		return s.getUser(w, r, principal, version, user)
	}
	if isDirectoryRelationship(rest[0]) {
		return s.userRelationship(r, principal, version, user, rest)
	}

	if user.Premises == directory.OnPrem {
		httpserver.SetPremises(r.Context(), string(directory.OnPrem))
		return s.onPrem(w, r, principal, version, user, rest)
	}
	httpserver.SetPremises(r.Context(), string(directory.Cloud))
	return s.cloud(w, r, principal, version, user, rest)
}

// target finds the user a path addresses and returns the segments after
// the user segment.
func (s *Server) target(r *http.Request, p *auth.Principal, segs []mailapi.Segment) (
	directory.User, []mailapi.Segment, error) {
	if len(segs) == 0 {
		return directory.User{}, nil, resourceNotFound("")
	}
	key, me, rest, ok := mailapi.UserKey(segs)
	switch {
	case !ok:
		return directory.User{}, nil, resourceNotFound(segs[0].Name)
	case me && !p.Delegated:
		return directory.User{}, nil, httpserver.Errorf(http.StatusBadRequest, "BadRequest",
			"/me request is only valid with delegated authentication flow.")
	case me:
		key = p.UserObjectID
	}

	user, err := s.Directory.Lookup(r.Context(), key)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.User{}, nil, unknownUser(key, rest)
	}
	if err != nil {
		return directory.User{}, nil, err
	}
	return user, rest, nil
}

// InvalidVersion is the answer for a path that starts with no API version.
func InvalidVersion() *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, "BadRequest", "Invalid version.")
}

func resourceNotFound(name string) error {
	return httpserver.Errorf(http.StatusBadRequest, "BadRequest",
		"Resource not found for the segment '%s'.", name)
}

// routeName names the route for the access log: the resource family and
// shape, never ids or addresses.
func routeName(version string, rest []mailapi.Segment) string {
	var b strings.Builder
	b.WriteString("/" + version + "/users/{id}")
	for _, s := range mailapi.Keyed(rest) {
		b.WriteString("/" + mailapi.LogName(s.Name))
		if s.HasKey {
			b.WriteString("({key})")
		}
	}
	return b.String()
}
