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
	// ErrMailboxLocked: the mailbox is locked by a mailbox move that is
	// switching it to another database; writes are refused until the move
	// ends.
	ErrMailboxLocked = errors.New("mailbox locked by a move")
)

// LockForever is the lease of a move lock that never runs out: the lock
// of a source mailbox once the move has switched away from it.
const LockForever = time.Duration(1<<63 - 1)

// Mailbox is one mailbox in a database.
type Mailbox struct {
	ID          string // the mailbox GUID (Exchange's ExchangeGuid)
	Address     string // primary SMTP address
	DisplayName string
	// Incarnation names this copy of the mailbox in its database: a new
	// value at every CreateMailbox (which ignores the one given), so that
	// state tied to a copy's change numbers (delta tokens) is refused by
	// another copy, even after a move away and back. Read only.
	Incarnation string
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
	// Search, when not empty, keeps only the items that match it in the
	// full-text index: a query in the KQL subset ParseSearch reads
	// (search.go). It combines with Where (AND) and leaves the order to
	// OrderBy. A query ParseSearch refuses fails with ErrSearchSyntax.
	Search string
}

// Change is one entry of a mailbox's change log (see Store.Changes).
type Change struct {
	Seq      int64  // the mailbox's change number of this change (> 0)
	ID       string // the item id
	FolderID string // the folder the item is in now, or the folder it left
	// Removed: the item was deleted, or (only when a folder was asked for)
	// moved out of FolderID. Item is nil then.
	Removed bool
	Item    *Item // the item as it is now (without Cols and MIME), when not Removed
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
	// FindFolder returns a folder by id, or by well-known name (any case)
	// when byWellKnown is set, without its counts (left zero): the lookup
	// for callers that need only the folder itself, since counting a
	// folder of 100,000 items takes tens of milliseconds.
	FindFolder(ctx context.Context, mailboxID, key string, byWellKnown bool) (Folder, error)
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

	// Change tracking and mailbox moves. Every item write (insert, update,
	// delete, put) takes the mailbox's next change numbers, one per item,
	// in commit order: a reader never sees number n+1 without n.

	// ChangeSeq returns the mailbox's latest change number (0 if none), or
	// ErrNotFound if there is no such mailbox.
	ChangeSeq(ctx context.Context, mailboxID string) (int64, error)
	// Changes returns up to limit changes of the mailbox with Seq > after,
	// in Seq order, one per item id (its latest). folderID "" means every
	// folder: then a move between folders is one change (the item, in its
	// new folder), and Removed means deleted. With a folder, an item that
	// left the folder is Removed there.
	Changes(ctx context.Context, mailboxID, folderID string, after int64,
		limit int) ([]Change, error)
	// PutItems inserts or replaces items as given (ids and change keys kept,
	// MIME kept), in one transaction: the copy step of a mailbox move.
	PutItems(ctx context.Context, items ...Item) error
	// LockMailbox locks a mailbox for a move for lease (on the database's
	// clock; LockForever never ends), or unlocks it when lease is 0.
	// Locking waits for writes in progress to commit; after it returns,
	// every item write of the mailbox (insert, update, delete, put) fails
	// with ErrMailboxLocked until the lease runs out or it is unlocked.
	// Reads go on. ErrNotFound if there is no such mailbox.
	LockMailbox(ctx context.Context, mailboxID string, lease time.Duration) error
	// RenewMailboxLock extends a lock that still holds to lease from now;
	// held is false when it had run out (or was never taken): writes may
	// have happened since, and the caller takes the lock anew.
	RenewMailboxLock(ctx context.Context, mailboxID string, lease time.Duration) (held bool,
		err error)
	// DeleteMailbox removes a mailbox with its folders, items and change
	// log, locked or not. ErrNotFound if there is none.
	DeleteMailbox(ctx context.Context, mailboxID string) error

	Enqueue(ctx context.Context, m Outbound) error
	// Due returns up to limit queued messages whose next attempt is due.
	Due(ctx context.Context, now time.Time, limit int) ([]Outbound, error)
	Dequeue(ctx context.Context, id string) error
	Defer(ctx context.Context, id string, next time.Time, lastErr string) error
}
