package graph

import (
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/hybrid"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
)

// cloud serves a mailbox held by the cloud's own engine.
func (s *Server) cloud(w http.ResponseWriter, r *http.Request, p *auth.Principal, version string,
	user directory.User, rest []mailapi.Segment) error {
	if version != "v1.0" {
		return httpserver.Errorf(http.StatusBadRequest, "BadRequest",
			"The API version '%s' is not served; use v1.0.", version)
	}
	switch first := rest[0].Name; {
	case mailapi.InFamily(first, mailapi.MailSegments):
	case mailapi.InFamily(first, mailapi.CalendarSegments),
		mailapi.InFamily(first, mailapi.ContactSegments):
		// TODO: Calendar and Contacts handlers; until then callers get 501.
		return httpserver.Errorf(http.StatusNotImplemented, "NotImplemented",
			"The '%s' resource is not served yet.", first)
	default:
		return resourceNotFound(first)
	}

	call := &mailapi.Call{
		W: w, R: r,
		Mailbox:     user.Ref(),
		Path:        rest,
		ContextBase: s.PublicURL + "/v1.0/$metadata#users('" + user.ObjectID + "')",
		RequestURL:  mailapi.AbsoluteURL(s.PublicURL, r),
		Authorize: func(op mailapi.Op) error {
			return authorize(p, user, op)
		},
	}
	return s.Mail.Serve(call)
}

// authorize checks the permission an operation needs (graph-api.md §1.1)
// and that a delegated caller stays within mailboxes it may reach.
func authorize(p *auth.Principal, user directory.User, op mailapi.Op) error {
	return authorizeFamily(p, user, "messages", op)
}

// authorizeFamily picks the permission table of the resource family that
// first names: Calendar and Contacts have their own scopes.
func authorizeFamily(p *auth.Principal, user directory.User, first string, op mailapi.Op) error {
	perm := mailapi.Permission(op)
	switch {
	case mailapi.InFamily(first, mailapi.CalendarSegments):
		perm = auth.CalendarsRead
		if op != mailapi.Read {
			perm = auth.CalendarsWrite
		}
	case mailapi.InFamily(first, mailapi.ContactSegments):
		perm = auth.ContactsRead
		if op != mailapi.Read {
			perm = auth.ContactsWrite
		}
	}
	return auth.CanAccess(p, user.ObjectID, perm)
}

// onPrem hands a request for an on-prem mailbox to the hybrid router,
// after the same permission check a cloud mailbox gets. Requests outside
// the proxied families are refused by the router's gate.
func (s *Server) onPrem(w http.ResponseWriter, r *http.Request, p *auth.Principal, version string,
	user directory.User, rest []mailapi.Segment) error {
	flat := make([]string, 0, 2*len(rest))
	for _, seg := range rest {
		flat = append(flat, seg.Name)
		if seg.HasKey {
			flat = append(flat, seg.Key)
		}
	}
	if hybrid.Allowed(version, flat) {
		if err := authorizeFamily(p, user, flat[0], opOf(r.Method, flat)); err != nil {
			return err
		}
	}
	scopes := p.Scopes
	if !p.Delegated {
		scopes = p.Roles
	}
	target := hybrid.Target{UPN: user.UPN, TargetAddress: user.TargetAddress, Scopes: scopes,
		ObjectID: user.ObjectID}
	return s.Router.Serve(w, r, version, target, flat, s.PublicURL)
}

// opOf is the access a proxied request needs, judged from its method and
// last segment, as the cloud handlers judge their own.
func opOf(method string, flat []string) mailapi.Op {
	last := ""
	if len(flat) > 0 {
		last = flat[len(flat)-1]
	}
	switch {
	case method == http.MethodGet:
		return mailapi.Read
	case method == http.MethodPost && (mailapi.InFamily(last, []string{"send", "sendMail",
		"reply", "replyAll", "forward"})):
		return mailapi.Send
	}
	return mailapi.Write
}
