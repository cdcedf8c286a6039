// Package mailbox is the mailbox engine: folders, messages, drafts, send and
// delivery, over the mailbox databases of one premises. Both API faces (Graph
// v1.0 in package graph, Outlook REST v2.0 in package outlookrest) call it;
// it knows no HTTP and no dialect. Documents in and out are Graph-canonical
// JSON (camelCase names, Graph enum spellings).
//
// Client mistakes come back as *httpserver.Error with Exchange's codes
// (ErrorInvalidProperty, ErrorItemNotFound, ...), which both faces send as
// they are; other failures wrap the store's sentinel errors.
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

// The methods below are the engine's contract with the API faces.
//
// EnsureMailbox(ctx, ref, displayName) error
//	creates the mailbox and its well-known folders if missing.
// Folders(ctx, ref, parent string) ([]store.Folder, error)
//	lists child folders of parent (an id or well-known name; "" = top level).
// Folder(ctx, ref, idOrWellKnown string) (store.Folder, error)
// ListMessages(ctx, ref, folder string, q store.Query) ([]store.Item, error)
//	folder is an id or well-known name, "" for the whole mailbox; q carries
//	Where/Args/OrderBy/Skip/Top from package odata (MailboxID, FolderID are
//	filled in by the engine).
// Message(ctx, ref, id string) (store.Item, error)
// CreateDraft(ctx, ref, folder string, doc []byte) (store.Item, error)
// UpdateMessage(ctx, ref, id string, patch []byte, ifMatch string) (store.Item, error)
// DeleteMessage(ctx, ref, id string) error
// Send(ctx, ref, id string) error
// SendMail(ctx, ref, doc []byte, saveToSentItems bool) error
// Deliver(ctx, ref, mime []byte) error
// Import(ctx, ref, folder string, mime []byte) (store.Item, error)
