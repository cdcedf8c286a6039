package mailbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Well-known folder names, usable wherever a folder id goes, in any case
// (Graph mailFolder resource; graph-api.md §1.2).
const (
	Root         = "msgfolderroot"
	Inbox        = "inbox"
	Drafts       = "drafts"
	SentItems    = "sentitems"
	DeletedItems = "deleteditems"
	JunkEmail    = "junkemail"
	Archive      = "archive"
	Outbox       = "outbox"
)

// wellKnownNames is Graph's list. A name on it that the mailbox has no
// folder for is 404, like any unknown id.
var wellKnownNames = map[string]bool{
	"archive": true, "clutter": true, "conflicts": true, "conversationhistory": true,
	"deleteditems": true, "drafts": true, "inbox": true, "junkemail": true,
	"localfailures": true, "msgfolderroot": true, "outbox": true,
	"recoverableitemsdeletions": true, "scheduled": true, "searchfolders": true,
	"sentitems": true, "serverfailures": true, "syncissues": true,
}

// defaultFolders are created under the root by EnsureMailbox, with the
// display names of an English-locale Exchange mailbox.
var defaultFolders = []struct{ wellKnown, name string }{
	{Inbox, "Inbox"},
	{Drafts, "Drafts"},
	{SentItems, "Sent Items"},
	{DeletedItems, "Deleted Items"},
	{JunkEmail, "Junk Email"},
	{Archive, "Archive"},
	{Outbox, "Outbox"},
}

// rootName is the root folder's display name in Exchange.
const rootName = "Top of Information Store"

// db returns the database that holds ref.
func (e *Engine) db(ref Ref) (store.Store, error) {
	db, ok := e.opts.Databases[ref.Database]
	if !ok || db == nil {
		return nil, fmt.Errorf("mailbox database %q: %w", ref.Database, ErrDatabaseNotOpen)
	}
	return db, nil
}

// EnsureMailbox creates the mailbox ref and its well-known folders where
// they are missing: the hidden root (msgfolderroot) and under it Inbox,
// Drafts, Sent Items, Deleted Items, Junk Email, Archive and Outbox. It
// is idempotent and safe to run concurrently.
func (e *Engine) EnsureMailbox(ctx context.Context, ref Ref, displayName string) error {
	db, err := e.db(ref)
	if err != nil {
		return err
	}
	err = db.CreateMailbox(ctx, store.Mailbox{ID: ref.ID, Address: ref.Address,
		DisplayName: displayName})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("ensure mailbox: %w", err)
	}

	root, err := ensureFolder(ctx, db, store.Folder{MailboxID: ref.ID, DisplayName: rootName,
		WellKnown: Root, IsHidden: true})
	if err != nil {
		return err
	}
	for _, f := range defaultFolders {
		_, err := ensureFolder(ctx, db, store.Folder{MailboxID: ref.ID, ParentID: root.ID,
			DisplayName: f.name, WellKnown: f.wellKnown})
		if err != nil {
			return err
		}
	}
	return nil
}

// ensureFolder returns the folder with f.WellKnown, creating it as f if
// there is none. Losing a creation race is fine; a sibling of the same
// name that is not the well-known folder is not.
func ensureFolder(ctx context.Context, db store.Store, f store.Folder) (store.Folder, error) {
	got, err := db.FolderByWellKnown(ctx, f.MailboxID, f.WellKnown)
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Folder{}, fmt.Errorf("ensure folder %s: %w", f.WellKnown, err)
	}
	f.ID = newID()
	if err := db.CreateFolder(ctx, f); err != nil && !errors.Is(err, store.ErrConflict) {
		return store.Folder{}, fmt.Errorf("ensure folder %s: %w", f.WellKnown, err)
	}
	got, err = db.FolderByWellKnown(ctx, f.MailboxID, f.WellKnown)
	if err != nil {
		return store.Folder{}, fmt.Errorf("ensure folder %s: %w", f.WellKnown, err)
	}
	return got, nil
}

// Folder returns a folder by id or well-known name (any case), with its
// counts.
func (e *Engine) Folder(ctx context.Context, ref Ref, idOrWellKnown string) (store.Folder, error) {
	db, err := e.db(ref)
	if err != nil {
		return store.Folder{}, err
	}
	var f store.Folder
	if name := strings.ToLower(idOrWellKnown); wellKnownNames[name] {
		f, err = db.FolderByWellKnown(ctx, ref.ID, name)
	} else {
		if err := checkID(idOrWellKnown); err != nil {
			return store.Folder{}, err
		}
		f, err = db.Folder(ctx, ref.ID, idOrWellKnown)
	}
	if err != nil {
		return store.Folder{}, notFound(err)
	}
	return f, nil
}

// FolderID resolves a folder id or well-known name (any case) to the
// folder's id, without counting its items as Folder does.
func (e *Engine) FolderID(ctx context.Context, ref Ref, idOrWellKnown string) (string, error) {
	db, err := e.db(ref)
	if err != nil {
		return "", err
	}
	f, err := folder(ctx, db, ref, idOrWellKnown)
	return f.ID, err
}

// folder resolves a folder id or well-known name of ref's mailbox, without
// its counts: message lists, creates, moves and deliveries need only the
// folder, and counting a large folder costs more than the rest of a list.
func folder(ctx context.Context, db store.Store, ref Ref,
	idOrWellKnown string) (store.Folder, error) {
	name := strings.ToLower(idOrWellKnown)
	byWellKnown := wellKnownNames[name]
	if !byWellKnown {
		if err := checkID(idOrWellKnown); err != nil {
			return store.Folder{}, err
		}
	}
	f, err := db.FindFolder(ctx, ref.ID, idOrWellKnown, byWellKnown)
	if err != nil {
		return store.Folder{}, notFound(err)
	}
	return f, nil
}

// Folders lists the child folders of parent, an id or well-known name; ""
// lists the top-level folders (the children of msgfolderroot). Hidden
// folders are included; the faces leave them out unless asked.
func (e *Engine) Folders(ctx context.Context, ref Ref, parent string) ([]store.Folder, error) {
	db, err := e.db(ref)
	if err != nil {
		return nil, err
	}
	parentID := ""
	if parent != "" {
		f, err := folder(ctx, db, ref, parent)
		if err != nil {
			return nil, err
		}
		parentID = f.ID
	}
	fs, err := db.Folders(ctx, ref.ID, parentID)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return fs, nil
}

// notFound turns the store's ErrNotFound into Graph's 404; other errors
// pass unchanged. The cause is kept, so errors.Is still sees ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return httpserver.Wrap(err, http.StatusNotFound, "ErrorItemNotFound",
			"The specified object was not found in the store.")
	}
	return err
}
