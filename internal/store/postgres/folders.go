package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlstore"
)

// CreateMailbox adds a mailbox; an existing id is ErrConflict.
func (db *DB) CreateMailbox(ctx context.Context, m store.Mailbox) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO mailboxes (id, address, display_name, incarnation)
		VALUES ($1, $2, $3, $4)`, m.ID, m.Address, m.DisplayName, uuid.NewString())
	if err != nil {
		return storeError(err, "create mailbox")
	}
	return nil
}

// Mailbox returns the mailbox with id, or ErrNotFound.
func (db *DB) Mailbox(ctx context.Context, id string) (store.Mailbox, error) {
	m := store.Mailbox{ID: id}
	err := db.pool.QueryRow(ctx,
		`SELECT address::text, display_name, incarnation FROM mailboxes WHERE id = $1`, id).
		Scan(&m.Address, &m.DisplayName, &m.Incarnation)
	if err != nil {
		return store.Mailbox{}, notFound(err, "mailbox")
	}
	return m, nil
}

// CreateFolder adds a folder. A duplicate id, a second folder with the
// same well-known name, or a sibling with the same display name (in any
// case) is ErrConflict; a missing mailbox is ErrNotFound.
func (db *DB) CreateFolder(ctx context.Context, f store.Folder) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO folders (mailbox_id, id, parent_id, display_name, well_known, is_hidden)
		 VALUES ($1, $2, $3, $4, $5, $6)`,
		f.MailboxID, f.ID, f.ParentID, f.DisplayName, strings.ToLower(f.WellKnown), f.IsHidden)
	if err != nil {
		return storeError(err, "create folder")
	}
	return nil
}

// folderSelect reads a folder with its counts (see sqlstore.FolderSelect).
var folderSelect = sqlstore.FolderSelect(dialect)

// Folder returns a folder by id, or ErrNotFound.
func (db *DB) Folder(ctx context.Context, mailboxID, id string) (store.Folder, error) {
	f, err := sqlstore.ScanFolder(db.pool.QueryRow(ctx,
		folderSelect+`WHERE f.mailbox_id = $1 AND f.id = $2`, mailboxID, id))
	if err != nil {
		return store.Folder{}, notFound(err, "folder")
	}
	return f, nil
}

// FolderByWellKnown returns the folder with a well-known name (any case),
// or ErrNotFound.
func (db *DB) FolderByWellKnown(ctx context.Context, mailboxID, name string) (store.Folder,
	error) {
	f, err := sqlstore.ScanFolder(db.pool.QueryRow(ctx,
		folderSelect+`WHERE f.mailbox_id = $1 AND f.well_known = $2`,
		mailboxID, strings.ToLower(name)))
	if err != nil {
		return store.Folder{}, notFound(err, "folder "+name)
	}
	return f, nil
}

var bareFolderSelect = sqlstore.BareFolderSelect(dialect)

// FindFolder returns a folder by id or well-known name, without counts.
func (db *DB) FindFolder(ctx context.Context, mailboxID, key string, byWellKnown bool) (
	store.Folder, error) {
	where, key := sqlstore.FolderKey(dialect, key, byWellKnown)
	f, err := sqlstore.ScanFolder(db.pool.QueryRow(ctx, bareFolderSelect+where, mailboxID, key))
	if err != nil {
		return store.Folder{}, notFound(err, "folder "+key)
	}
	return f, nil
}

// Folders lists the children of parentID by display name; "" lists the
// children of the root folder (the one without a parent).
func (db *DB) Folders(ctx context.Context, mailboxID, parentID string) ([]store.Folder, error) {
	parent := `$2`
	args := []any{mailboxID, parentID}
	if parentID == "" {
		parent = `(SELECT id FROM folders WHERE mailbox_id = $1 AND parent_id = '' LIMIT 1)`
		args = args[:1]
	}
	rows, err := db.pool.Query(ctx, folderSelect+`WHERE f.mailbox_id = $1 AND f.parent_id = `+
		parent+` ORDER BY f.display_name, f.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list folders: %w", err)
	}
	return collect(rows, sqlstore.ScanFolder, "list folders")
}
