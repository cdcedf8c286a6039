// Package mailapi holds the mail resource handlers that the Graph v1.0 face
// (package graph) and the Outlook REST v2.0 face (package outlookrest) share.
// A Face is the same handlers in one dialect: the names of properties,
// types and the error envelope differ; the resources, their operations and
// the engine calls do not (DESIGN.md principle 1: one engine, two faces).
//
// The faces find the mailbox and authenticate; mailapi resolves the rest of
// the path (messages, mailFolders, childFolders, sendMail, send), checks the
// operation's permission through the Call, runs the engine and writes the
// answer.
package mailapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Op is the kind of access an operation needs.
type Op int

const (
	Read  Op = iota // list and get
	Write           // create, update, delete
	Send            // sendMail, send
)

// Face serves the mail resources in one dialect.
type Face struct {
	Dialect schema.Dialect
	Engine  *mailbox.Engine
	Limits  odata.Limits
}

// Call is one request for a mailbox's mail resources.
type Call struct {
	W       http.ResponseWriter
	R       *http.Request
	Mailbox mailbox.Ref
	// Path holds the segments after the user segment (me, users('x')).
	Path []Segment
	// ContextBase starts every @odata.context, up to and including the
	// user segment: ".../v1.0/$metadata#users('<id>')".
	ContextBase string
	// Authorize checks that the caller may perform op on the mailbox.
	Authorize func(op Op) error
	// RequestURL is the absolute URL the client called, for @odata.nextLink.
	RequestURL *url.URL
}

// ContentType is the media type of every JSON answer, as Graph sends it.
const ContentType = "application/json;odata.metadata=minimal;odata.streaming=true;" +
	"IEEE754Compatible=false;charset=utf-8"

// Serve dispatches c to the resource its path names.
func (f *Face) Serve(c *Call) error {
	res, err := resolve(c.Path)
	if err != nil {
		return err
	}
	op := res.op(c.R.Method)
	if op < 0 {
		return methodNotAllowed(res)
	}
	if err := c.Authorize(op); err != nil {
		return err
	}
	switch res.kind {
	case messageList:
		return f.messageList(c, res)
	case messageItem:
		return f.messageItem(c, res)
	case messageSend:
		return f.send(c, res)
	case folderList, childFolderList:
		return f.folderList(c, res)
	case folderItem:
		return f.folderItem(c, res)
	case sendMail:
		return f.sendMail(c)
	}
	return notFound(c.Path)
}

func notFound(path []Segment) error {
	name := ""
	if len(path) > 0 {
		name = path[len(path)-1].Name
	}
	return httpserver.Errorf(http.StatusBadRequest, "BadRequest",
		"Resource not found for the segment '%s'.", name)
}

// methodNotAllowed answers 405 with the Allow header RFC 9110 §15.5.6
// asks for.
func methodNotAllowed(res resource) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch,
		http.MethodDelete} {
		if res.op(m) >= 0 {
			allow = append(allow, m)
		}
	}
	e := httpserver.Errorf(http.StatusMethodNotAllowed, "ErrorInvalidRequest",
		"The HTTP method is not allowed on this resource.")
	e.Header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	return e
}

// engineError turns the store's sentinels into the errors Exchange sends;
// the engine's own *httpserver.Error values pass unchanged.
func engineError(err error) error {
	var he *httpserver.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case errors.Is(err, store.ErrNotFound):
		return httpserver.Wrap(err, http.StatusNotFound, "ErrorItemNotFound",
			"The specified object was not found in the store.")
	case errors.Is(err, store.ErrPreconditionFailed):
		return httpserver.Wrap(err, http.StatusPreconditionFailed, "ErrorIrresolvableConflict",
			"The send or update operation could not be performed because the change key "+
				"passed in the request does not match the current change key for the item.")
	case errors.Is(err, store.ErrConflict):
		return httpserver.Wrap(err, http.StatusConflict, "ErrorIrresolvableConflict",
			"The item was changed by another request.")
	case errors.Is(err, store.ErrMailboxLocked):
		return mailboxMoving(err)
	case errors.Is(err, mailbox.ErrDatabaseNotOpen):
		// Another gateway, whose configuration lists the database, may
		// serve the retry; this one will not until it is reconfigured.
		e := httpserver.Wrap(err, http.StatusServiceUnavailable, "ErrorMailboxStoreUnavailable",
			"The mailbox database is not available on this server.")
		e.Header = http.Header{"Retry-After": {DatabaseRetryAfter}}
		return e
	}
	return err
}

// DatabaseRetryAfter is the Retry-After, in seconds, of the answer for a
// mailbox in a database this server has not opened.
const DatabaseRetryAfter = "30"

// MoveRetryAfter is the Retry-After, in seconds, of the answer to a write
// that a mailbox move refused: the lock lasts as long as the move's last
// catch-up and its switch, which take about a second.
const MoveRetryAfter = "1"

// mailboxMoving is the answer to a write into a mailbox that a move has
// locked: 503 with Retry-After, which Graph clients honour by trying again
// (graph-api.md §4), and Exchange's code for it, ErrorMailboxMoveInProgress
// (EWS ResponseCodeType). The retry finds the mailbox where the directory
// then places it.
func mailboxMoving(err error) error {
	e := httpserver.Wrap(err, http.StatusServiceUnavailable, "ErrorMailboxMoveInProgress",
		"The mailbox is being moved. Try again later.")
	e.Header = http.Header{"Retry-After": {MoveRetryAfter}}
	return e
}

// writeJSON writes a JSON answer.
func writeJSON(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("OData-Version", "4.0")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// collection assembles {"@odata.context", "@odata.count"?, "value", "@odata.nextLink"?}.
func collection(context string, count int, items [][]byte, next string) []byte {
	var b bytes.Buffer
	b.Grow(64 + len(context) + len(next) + 1024*len(items))
	b.WriteString(`{"@odata.context":`)
	b.Write(quote(context))
	if count >= 0 {
		b.WriteString(`,"@odata.count":`)
		b.WriteString(strconv.Itoa(count))
	}
	b.WriteString(`,"value":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteByte(']')
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		b.Write(quote(next))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// entity prepends "@odata.context" to a shaped item.
func entity(context string, item []byte) []byte {
	if len(item) < 2 || item[0] != '{' {
		return item
	}
	var b bytes.Buffer
	b.Grow(len(item) + len(context) + 24)
	b.WriteString(`{"@odata.context":`)
	b.Write(quote(context))
	if len(item) > 2 {
		b.WriteByte(',')
	}
	b.Write(item[1:])
	return b.Bytes()
}

func quote(s string) []byte {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xF])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.Bytes()
}

// contextPath renders path segments for @odata.context: keys in quotes,
// names as the face spells them.
func contextPath(segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s.Name)
		if s.HasKey {
			b.WriteString("('")
			b.WriteString(strings.ReplaceAll(s.Key, "'", "''"))
			b.WriteString("')")
		}
	}
	return b.String()
}
