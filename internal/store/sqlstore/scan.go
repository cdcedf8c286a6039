package sqlstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Scanner is a row of either driver: database/sql's rows and pgx's.
type Scanner interface{ Scan(dest ...any) error }

// ScanItem reads a row of ListSQL into an item without Cols and MIME.
func ScanItem(r Scanner) (store.Item, error) {
	var it store.Item
	err := r.Scan(&it.MailboxID, &it.ID, &it.FolderID, &it.ChangeKey, &it.Doc)
	return it, err
}

// FolderSelect reads a folder with its counts, up to and including FROM;
// the caller adds the WHERE. The counts are correlated subqueries
// answered from indexes: folders_sibling_name for children,
// messages_folder_received for the total, messages_folder_unread for the
// unread count. Rows scan with ScanFolder.
func FolderSelect(d Dialect) string {
	return `SELECT f.mailbox_id, f.id, f.parent_id, f.display_name` + d.Text + `,
	f.well_known, f.is_hidden,
	(SELECT COUNT(*) FROM folders c WHERE c.mailbox_id = f.mailbox_id AND c.parent_id = f.id),
	(SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = f.mailbox_id AND m.folder_id = f.id),
	(SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = f.mailbox_id AND m.folder_id = f.id
		AND m.is_read = ` + d.False + `)
	FROM folders f `
}

// BareFolderSelect is FolderSelect with zero counts, for lookups that do
// not need them; rows scan with ScanFolder too.
func BareFolderSelect(d Dialect) string {
	return `SELECT f.mailbox_id, f.id, f.parent_id, f.display_name` + d.Text + `,
	f.well_known, f.is_hidden, 0, 0, 0
	FROM folders f `
}

// FolderKey is the WHERE condition of a folder lookup by id, or by
// well-known name when byWellKnown, with the key's value to bind second
// (after the mailbox id).
func FolderKey(d Dialect, key string, byWellKnown bool) (string, string) {
	column := "f.id"
	if byWellKnown {
		column, key = "f.well_known", strings.ToLower(key)
	}
	return `WHERE f.mailbox_id = ` + d.Param(1) + ` AND ` + column + ` = ` + d.Param(2), key
}

// ScanFolder reads a row of FolderSelect.
func ScanFolder(r Scanner) (store.Folder, error) {
	var f store.Folder
	err := r.Scan(&f.MailboxID, &f.ID, &f.ParentID, &f.DisplayName, &f.WellKnown,
		&f.IsHidden, &f.ChildFolderCount, &f.TotalItemCount, &f.UnreadItemCount)
	return f, err
}

// ScanOutbound reads an outbound row: id, sender, recipients (a JSON
// array), mime, attempts, next_attempt (Millis) and last_error.
func ScanOutbound(r Scanner) (store.Outbound, error) {
	var (
		m     store.Outbound
		rcpts string
		next  int64
	)
	if err := r.Scan(&m.ID, &m.From, &rcpts, &m.MIME, &m.Attempts, &next,
		&m.LastError); err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(rcpts), &m.Recipients); err != nil {
		return m, fmt.Errorf("recipients of %s: %w", m.ID, err)
	}
	m.NextAttempt = time.UnixMilli(next).UTC()
	return m, nil
}

// Millis is how times are stored: Unix milliseconds, with the zero time
// as 0 (due at once).
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// DoneKept is how long the id of a delivered outbound message is kept, so
// that Enqueue refuses it: far longer than a stopped send waits before it
// is finished again (mailbox.ResumeAfter).
const DoneKept = 24 * time.Hour
