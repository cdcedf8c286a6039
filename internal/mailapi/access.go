package mailapi

import (
	"net/http"
	"net/url"

	"github.com/hybridgraph/hybridgraph/internal/auth"
)

// Permission is the permission an operation on mail needs (graph-api.md
// §1.1: reads take any Mail read scope, writes Mail.ReadWrite, sends
// Mail.Send).
func Permission(op Op) auth.Permission {
	switch op {
	case Write:
		return auth.MailWrite
	case Send:
		return auth.MailSend
	}
	return auth.MailRead
}

// AbsoluteURL is the URL of r as a client reached base (a scheme and host
// without trailing slash); links in answers are built from it.
func AbsoluteURL(base string, r *http.Request) *url.URL {
	u, err := url.Parse(base + r.URL.RequestURI())
	if err != nil {
		return r.URL
	}
	return u
}
