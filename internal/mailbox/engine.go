// Package mailbox is the mailbox engine: folders, messages, drafts, send and
// delivery, over the mailbox databases of one premises. Both API faces (Graph
// v1.0 in package graph, Outlook REST v2.0 in package outlookrest) call it;
// it knows no HTTP and no dialect. Documents in and out are Graph-canonical
// JSON (camelCase names, Graph enum spellings).
//
// Client mistakes come back as *httpserver.Error with Exchange's codes
// (ErrorInvalidProperty, ErrorItemNotFound, ...), which both faces send as
// they are; other failures wrap the store's sentinel errors.
//
// Documents are stored and returned with their properties in schema order
// (schema.Message), with server-owned values set by the engine: id,
// changeKey (new on every write), times, parentFolderId, isDraft,
// bodyPreview, conversation. Ids are opaque URL-safe strings that never
// change for an item's life, also not when it moves between folders: this
// is Graph's ImmutableId behaviour, which Graph gives only on request.
//
// Sending builds the RFC 5322 form (package mime) and asks the Directory
// where each recipient lives: mailboxes of this premises get it delivered
// at once, the other premises' recipients through the outbound queue of
// the sender's database; addresses of no mailbox get the sender a
// non-delivery report. Once a send starts writing it runs to its end even
// if the caller goes away (commit.go explains the order of its writes).
package mailbox

import (
	"context"
	"errors"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Ref names a mailbox and the database that holds it.
type Ref struct {
	ID       string // mailbox GUID
	Address  string // primary SMTP address
	Database string // mailbox database name
}

// Location is where the directory places a recipient address.
type Location struct {
	Local   bool // a mailbox on this premises: deliver into its database
	Mailbox Ref  // set when Local
}

// Directory resolves recipient addresses for delivery.
type Directory interface {
	// Locate returns where address lives. ErrUnknownRecipient means no
	// mailbox in the organisation has it.
	Locate(ctx context.Context, address string) (Location, error)
}

// ErrUnknownRecipient means an address belongs to no mailbox of the
// organisation.
var ErrUnknownRecipient = errors.New("unknown recipient")

// ErrDatabaseNotOpen means the directory places a mailbox in a database
// this server has not opened: moved there by a configuration that lists
// it while this server's does not.
var ErrDatabaseNotOpen = errors.New("not open on this server (its configuration does not " +
	"list it)")

// Options configure an engine.
type Options struct {
	// Databases are this premises' mailbox databases by name.
	Databases map[string]store.Store
	Directory Directory
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Engine is the mailbox engine of one premises.
type Engine struct {
	opts Options
}

// New returns an engine over opts.Databases.
func New(opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{opts: opts}
}

// The engine's methods, by concern: folders.go (EnsureMailbox, Folder,
// Folders), messages.go (ListMessages, CountMessages, Message, CreateDraft,
// UpdateMessage, DeleteMessage), send.go (Send, SendMail, the send-as
// check), commit.go (routing to recipients and the writes of a send),
// ndr.go (non-delivery reports), deliver.go (Deliver, Import,
// ImportBatch). document.go
// validates client documents against schema.Message and writes documents
// in schema order; ids.go defines ids, change keys and conversations.
