// Package outlookrest is the Outlook REST v2.0 face of the on-prem server:
// /api/v2.0/me/... and /api/v2.0/users('{upn}')/..., PascalCase names,
// Microsoft.OutlookServices types and the v2.0 error envelope without
// innerError (exchange-hybrid.md §1.2, §1.3). It serves the same mail
// resources as the Graph face, through mailapi in the REST dialect.
//
// Every call carries a server-to-server token from the cloud; the token
// names the user on whose behalf the gateway calls, and only that user's
// mailbox may be addressed.
package outlookrest

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
)

// Authenticator checks a request's server-to-server token.
type Authenticator interface {
	Authenticate(r *http.Request) (*auth.Principal, error)
}

// RESTCheck reports whether the mailbox database of u is hosted by a
// server that has the REST endpoint.
type RESTCheck func(u directory.User) bool

// Server is the v2.0 face.
type Server struct {
	Directory  *directory.Directory
	Auth       Authenticator
	Mail       *mailapi.Face // in the REST dialect, over the on-prem engine
	ServesREST RESTCheck
	// PublicURL is the server's base URL (scheme and host) as the cloud
	// reaches it, without a trailing slash.
	PublicURL string
	Log       *slog.Logger
}

// Handler serves /api/.
func (s *Server) Handler() http.Handler {
	return httpserver.Handle(httpserver.RESTEnvelope, s.serve)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	segs, err := mailapi.SplitPath(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	if len(segs) < 2 || !segs[0].Is("api") || !segs[1].Is("v2.0") {
		httpserver.SetRoute(r.Context(), "unknown")
		return httpserver.Errorf(http.StatusNotFound, "ErrorInvalidUrl",
			"The URL is not a supported Outlook REST v2.0 URL.")
	}
	p, err := s.Auth.Authenticate(r)
	if err != nil {
		return err
	}
	user, rest, err := s.target(r, p, segs[2:])
	if err != nil {
		return err
	}
	httpserver.SetRoute(r.Context(), "/api/v2.0/users/{id}"+routeTail(rest))

	if !s.ServesREST(user) {
		// exchange-hybrid.md §5: the KB 4462988 answer for a mailbox whose
		// server has no REST endpoint.
		return httpserver.Errorf(http.StatusNotFound, "MailboxNotEnabledForRESTAPI",
			"REST API is not yet supported for this mailbox.")
	}
	if len(rest) == 0 || !mailapi.InFamily(rest[0].Name, mailapi.MailSegments) {
		name := ""
		if len(rest) > 0 {
			name = rest[0].Name
		}
		// TODO: Calendar and Contacts on the v2.0 face.
		return httpserver.Errorf(http.StatusBadRequest, "RequestBroker-ParseUri",
			"Resource not found for the segment '%s'.", name)
	}

	call := &mailapi.Call{
		W: w, R: r,
		Mailbox:     user.Ref(),
		Path:        rest,
		ContextBase: s.PublicURL + "/api/v2.0/$metadata#Users('" + user.UPN + "')",
		RequestURL:  mailapi.AbsoluteURL(s.PublicURL, r),
		Authorize: func(op mailapi.Op) error {
			return auth.Require(p, mailapi.Permission(op))
		},
	}
	return s.Mail.Serve(call)
}

// target resolves me or users('{upn}') to the token's user. A token
// speaks for one user (MS-XOAUTH 3.2.5.6, nameid), so any other mailbox is
// refused.
func (s *Server) target(r *http.Request, p *auth.Principal, segs []mailapi.Segment) (
	directory.User, []mailapi.Segment, error) {
	if len(segs) == 0 {
		return directory.User{}, nil, httpserver.Errorf(http.StatusNotFound, "ErrorInvalidUrl",
			"The URL names no mailbox.")
	}
	key, me, rest, ok := mailapi.UserKey(segs)
	switch {
	case !ok:
		return directory.User{}, nil, httpserver.Errorf(http.StatusBadRequest,
			"RequestBroker-ParseUri", "Resource not found for the segment '%s'.", segs[0].Name)
	case me:
		key = p.UPN
	}

	user, err := s.Directory.Lookup(r.Context(), key)
	if errors.Is(err, directory.ErrNotFound) || (err == nil && user.Premises != directory.OnPrem) {
		return directory.User{}, nil, httpserver.Errorf(http.StatusNotFound, "ErrorInvalidUser",
			"The requested user '%s' is invalid.", key)
	}
	if err != nil {
		return directory.User{}, nil, err
	}
	if !strings.EqualFold(user.UPN, p.UPN) && !strings.EqualFold(user.Mail, p.UPN) {
		return directory.User{}, nil, httpserver.Errorf(http.StatusForbidden, "ErrorAccessDenied",
			"Access is denied. Check credentials and try again.")
	}
	return user, rest, nil
}

func routeTail(rest []mailapi.Segment) string {
	var b strings.Builder
	for _, s := range mailapi.Keyed(rest) {
		b.WriteString("/" + mailapi.LogName(s.Name))
		if s.HasKey {
			b.WriteString("({key})")
		}
	}
	return b.String()
}
