package mailapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
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

// query parses the request's query string. A ";" is taken as a literal
// character, as OData literals may hold one: net/url would drop every pair
// with a raw ";" in it and report nothing, turning
// $filter=contains(subject,'a;b') into no filter at all. For the same
// reason a malformed escape is an error, not a dropped option.
func (c *Call) query() (url.Values, error) {
	v, err := url.ParseQuery(strings.ReplaceAll(c.R.URL.RawQuery, ";", "%3B"))
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "BadRequest",
			"The query string is malformed.")
	}
	return v, nil
}

// parse reads the OData query options of c for type t.
func (f *Face) parse(c *Call, t *schema.StructType) (*odata.Query, url.Values, error) {
	v, err := c.query()
	if err != nil {
		return nil, nil, err
	}
	q, err := odata.Parse(v, t, f.Dialect, f.Limits)
	return q, v, err
}
