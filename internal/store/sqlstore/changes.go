package sqlstore

import (
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Change tracking. Each mailbox row holds a change counter (change_seq)
// and a move lock (lock_until, a lease: writes are refused until then).
// Every item write first advances the counter with BumpSQL, in its own
// transaction: the row lock that UPDATE takes is
// held until commit, so the writers of one mailbox commit one after the
// other, in the order of their change numbers, and a reader that sees
// number n+1 also sees n. A database sequence would not give that: its
// numbers are handed out before commit, in any order.
//
// A message row carries the number of its last change. An item leaving a
// folder (deleted, or moved elsewhere) leaves a row in tombstones for that
// folder; deleted says which. An item coming (back) into a folder removes
// that folder's tombstone for it, and an item id inserted again after a
// delete turns its deleted tombstones into "moved out" ones, so that at
// most one deleted tombstone exists per id, and only while no message
// row does.

// BumpSQL advances the change counter of an unlocked mailbox by a number
// of changes and returns its new value; no row means the mailbox is
// locked or missing. Arguments: the number of changes, the mailbox id.
func BumpSQL(d Dialect) string {
	return `UPDATE mailboxes SET change_seq = change_seq + ` + d.Param(1) +
		` WHERE id = ` + d.Param(2) + ` AND lock_until <= ` + d.NowMillis +
		` RETURNING change_seq`
}

// LockSQL sets a mailbox's move lock to a lease on the database's clock:
// 0 or less unlocks, store.LockForever never ends. With renew, only a lock
// that still holds is extended. It returns the statement and its
// arguments; no row means the mailbox is missing (or, with renew, its lock
// has run out).
func LockSQL(d Dialect, mailboxID string, lease time.Duration, renew bool) (string, []any) {
	var until string
	var args []any
	switch {
	case lease <= 0:
		until = "0"
	case lease >= store.LockForever:
		until = maxLeaseMillis
	default:
		until = d.NowMillis + " + " + d.Param(1)
		args = append(args, lease.Milliseconds())
	}
	q := `UPDATE mailboxes SET lock_until = ` + until + ` WHERE id = ` + d.Param(len(args)+1)
	args = append(args, mailboxID)
	if renew {
		q += ` AND lock_until > ` + d.NowMillis
	}
	return q, args
}

// maxLeaseMillis is the lock_until of a lock that never ends.
const maxLeaseMillis = "9223372036854775807"

// TombstoneSQL records that an item left a folder at a change number.
// Arguments: mailbox id, id, folder id, change number, deleted.
func TombstoneSQL(d Dialect) string {
	return `INSERT INTO tombstones (mailbox_id, id, folder_id, change_seq, deleted)
	VALUES (` + params(d, 1, 5) + `)
	ON CONFLICT (mailbox_id, folder_id, id)
	DO UPDATE SET change_seq = excluded.change_seq, deleted = excluded.deleted`
}

// ArriveSQL removes the tombstone of an item in the folder it comes into.
// Arguments: mailbox id, folder id, id.
func ArriveSQL(d Dialect) string {
	return `DELETE FROM tombstones WHERE mailbox_id = ` + d.Param(1) +
		` AND folder_id = ` + d.Param(2) + ` AND id = ` + d.Param(3)
}

// UndeleteSQL turns the deleted tombstones of an id inserted again into
// "moved out" ones. Arguments: mailbox id, id.
func UndeleteSQL(d Dialect) string {
	return `UPDATE tombstones SET deleted = ` + d.False + ` WHERE mailbox_id = ` + d.Param(1) +
		` AND id = ` + d.Param(2) + ` AND deleted`
}

// UpsertSQL inserts a message, or replaces every column of the one with
// its id, keeping nothing of it. Its arguments are InsertSQL's.
func UpsertSQL(d Dialect) string {
	sets := []string{"folder_id", "change_key", "doc", "mime", "change_seq"}
	for _, c := range derived {
		sets = append(sets, c.name)
	}
	for i, c := range sets {
		sets[i] = c + " = excluded." + c
	}
	return InsertSQL(d) + ` ON CONFLICT (mailbox_id, id) DO UPDATE SET ` +
		strings.Join(sets, ", ")
}

// ChangesSQL returns the query listing a mailbox's changes after a change
// number, in order, up to a limit, with its arguments; rows scan with
// ScanChange. With a folder, the changes are the folder's messages changed
// since and its tombstones; without, every message changed since and the
// deleted tombstones. Each id comes at most once (see above), and each
// change number at most once, so the order is total.
func ChangesSQL(d Dialect, mailboxID, folderID string, after int64, limit int) (string,
	[]any) {
	cond := `mailbox_id = ` + d.Param(1) + ` AND change_seq > ` + d.Param(2)
	gone := ` AND deleted`
	args := []any{mailboxID, after}
	if folderID != "" {
		cond += ` AND folder_id = ` + d.Param(3)
		gone = ""
		args = append(args, folderID)
	}
	query := `SELECT change_seq, id, folder_id, false, change_key, doc FROM messages
	WHERE ` + cond + `
	UNION ALL
	SELECT change_seq, id, folder_id, true, '', '' FROM tombstones WHERE ` + cond + gone + `
	ORDER BY 1 LIMIT ` + d.Param(len(args)+1)
	if d.Numbered {
		return query, append(args, limit)
	}
	// "?" placeholders bind in order of appearance: the condition twice.
	return query, append(append(args, args...), limit)
}

// ScanChange reads a row of ChangesSQL of a mailbox.
func ScanChange(mailboxID string) func(Scanner) (store.Change, error) {
	return func(r Scanner) (store.Change, error) {
		var (
			c  store.Change
			it = store.Item{MailboxID: mailboxID}
		)
		if err := r.Scan(&c.Seq, &c.ID, &c.FolderID, &c.Removed, &it.ChangeKey,
			&it.Doc); err != nil {
			return c, err
		}
		if !c.Removed {
			it.ID, it.FolderID = c.ID, c.FolderID
			c.Item = &it
		}
		return c, nil
	}
}

// params returns the placeholders from first to last, comma-separated.
func params(d Dialect, first, last int) string {
	p := make([]string, 0, last-first+1)
	for n := first; n <= last; n++ {
		p = append(p, d.Param(n))
	}
	return strings.Join(p, ", ")
}
