// Package store defines what the mailbox engine needs from a mailbox
// database, and the errors it reports. A mailbox database holds many
// mailboxes; each mailbox lives in exactly one database (as in Exchange).
//
// Items are kept as their Graph-canonical JSON document plus the columns the
// schema (package schema) derives from it for filtering and ordering. The
// document is the truth; columns are recomputed on every write.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrConflict           = errors.New("conflict")
	ErrPreconditionFailed = errors.New("precondition failed")
)

// Mailbox is one mailbox in a database.
type Mailbox struct {
	ID          string // the mailbox GUID (Exchange's ExchangeGuid)
	Address     string // primary SMTP address
	DisplayName string
}

// Folder is a mail folder. The counts are computed when read.
type Folder struct {
	MailboxID   string
	ID          string
	ParentID    string // "" for the root (msgfolderroot)
	DisplayName string
	WellKnown   string // lower-case well-known name, or ""
	IsHidden    bool

	ChildFolderCount int
	TotalItemCount   int
	UnreadItemCount  int
}

// Item is a stored item (a message today).
type Item struct {
	MailboxID string
	ID        string
	FolderID  string
	ChangeKey string
	// Doc is the item's Graph-canonical JSON object.
	Doc []byte
	// Cols are the values of schema.Message.Columns, in that order, as
	// produced by schema.(*StructType).ColumnValues.
	Cols []any
	// MIME is the item's RFC 5322 form when known (imported or delivered).
	MIME []byte
}

// Order is one key of a sort.
type Order struct {
	Column string // SQL column name from the schema
	Desc   bool
}

// Query selects items of one mailbox.
type Query struct {
	MailboxID string
	FolderID  string // "" means every folder of the mailbox
	// Where is a boolean SQL expression over the item columns, with "?"
	// placeholders bound to Args in order. Empty means no condition.
	Where   string
	Args    []any
	OrderBy []Order // the store adds id as the last key, so order is total
	Skip    int
	Top     int // 0 means no limit
}

// Outbound is a message waiting in the mail-flow queue for delivery to
// the other premises.
type Outbound struct {
	ID          string
	From        string
	Recipients  []string
	MIME        []byte
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// Store is one mailbox database.
type Store interface {
	Close() error

	CreateMailbox(ctx context.Context, m Mailbox) error
	Mailbox(ctx context.Context, id string) (Mailbox, error)

	CreateFolder(ctx context.Context, f Folder) error
	Folder(ctx context.Context, mailboxID, id string) (Folder, error)
	FolderByWellKnown(ctx context.Context, mailboxID, name string) (Folder, error)
	// Folders lists the child folders of parentID ("" lists the top-level
	// folders, the children of the root).
	Folders(ctx context.Context, mailboxID, parentID string) ([]Folder, error)

	ListItems(ctx context.Context, q Query) ([]Item, error)
	CountItems(ctx context.Context, q Query) (int, error)
	GetItem(ctx context.Context, mailboxID, id string) (Item, error)
	// InsertItems adds items in one transaction.
	InsertItems(ctx context.Context, items ...Item) error
	// UpdateItem replaces an item. If ifChangeKey is not empty and differs
	// from the stored change key it fails with ErrPreconditionFailed.
	UpdateItem(ctx context.Context, it Item, ifChangeKey string) error
	DeleteItem(ctx context.Context, mailboxID, id string) error
	// ItemMIME returns the stored MIME form of an item, or ErrNotFound.
	ItemMIME(ctx context.Context, mailboxID, id string) ([]byte, error)

	Enqueue(ctx context.Context, m Outbound) error
	// Due returns up to limit queued messages whose next attempt is due.
	Due(ctx context.Context, now time.Time, limit int) ([]Outbound, error)
	Dequeue(ctx context.Context, id string) error
	Defer(ctx context.Context, id string, next time.Time, lastErr string) error
}
