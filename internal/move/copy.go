package move

import (
	"context"
	"errors"
	"fmt"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Catch-up rounds. A round replays every change the log holds after the
// watermark; while the owner keeps writing, the next round finds what was
// written during this one. Rounds shrink to what one round's duration
// brings, and once one is small the lock is taken: the last round, under
// the lock, is then short, and so is the 503 window clients see.
const (
	// smallRound is the most changes a round may replay for the move to
	// go on to the lock.
	smallRound = 50
	// maxRounds bounds the online rounds of a mailbox written to faster
	// than it is replayed: the move then locks anyway, with a longer
	// final round.
	maxRounds = 20
)

// wellKnownRoot names the root folder (Graph's msgfolderroot).
const wellKnownRoot = "msgfolderroot"

// syncFolders creates in the target every source folder it lacks, parents
// before children, with the same ids. Folders are never renamed or
// removed through the store, so creating the missing ones is all.
func (r *run) syncFolders(ctx context.Context) error {
	guid := r.job.MailboxGUID
	root, err := r.src.FolderByWellKnown(ctx, guid, wellKnownRoot)
	if err != nil {
		return fmt.Errorf("source root folder: %w", err)
	}
	queue := []store.Folder{root}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if _, err := r.dst.Folder(ctx, guid, f.ID); errors.Is(err, store.ErrNotFound) {
			err = r.dst.CreateFolder(ctx, f)
			if err != nil && !errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("create folder %s in the target: %w", f.ID, err)
			}
		} else if err != nil {
			return fmt.Errorf("target folder %s: %w", f.ID, err)
		}
		children, err := r.src.Folders(ctx, guid, f.ID)
		if err != nil {
			return fmt.Errorf("source folders: %w", err)
		}
		queue = append(queue, children...)
	}
	return nil
}

// copyItems copies the source's items in id order after the cursor, one
// batch per transaction, saving the cursor after each.
func (r *run) copyItems(ctx context.Context) error {
	n := r.m.batch()
	for {
		items, err := r.src.ListItems(ctx, store.Query{MailboxID: r.job.MailboxGUID,
			Where: "id > ?", Args: []any{r.job.Cursor}, Top: n})
		if err != nil {
			return fmt.Errorf("list source items: %w", err)
		}
		if err := r.put(ctx, items); err != nil {
			return err
		}
		if len(items) > 0 {
			r.job.Cursor = items[len(items)-1].ID
			r.job.Copied += int64(len(items))
		}
		if len(items) < n {
			return r.save(ctx, Copied)
		}
		if err := r.save(ctx, Copying); err != nil {
			return err
		}
	}
}

// put writes items to the target with their MIME forms. A folder created
// in the source since the last look is created first.
func (r *run) put(ctx context.Context, items []store.Item) error {
	if len(items) == 0 {
		return nil
	}
	for i := range items {
		b, err := r.src.ItemMIME(ctx, items[i].MailboxID, items[i].ID)
		switch {
		case err == nil:
			items[i].MIME = b
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("read item MIME: %w", err)
		}
		// ErrNotFound: a draft has no MIME form, or the item has just
		// been deleted, which the log replays later.
	}
	err := r.dst.PutItems(ctx, items...)
	if errors.Is(err, store.ErrNotFound) {
		if err = r.syncFolders(ctx); err == nil {
			err = r.dst.PutItems(ctx, items...)
		}
	}
	if err != nil {
		return fmt.Errorf("write target items: %w", err)
	}
	return nil
}

// catchUpOnline replays rounds of changes until one is small.
func (r *run) catchUpOnline(ctx context.Context) error {
	for round := 1; ; round++ {
		n, err := r.catchUp(ctx)
		if err != nil {
			return err
		}
		r.m.log().Debug("move: catch-up round", "user", r.job.UPN, "round", round,
			"changes", n)
		if n <= smallRound || round >= maxRounds {
			return r.save(ctx, CaughtUp)
		}
	}
}

// catchUp replays the changes after the watermark, a batch at a time,
// saving the watermark after each, and returns how many it replayed.
func (r *run) catchUp(ctx context.Context) (int, error) {
	total := 0
	for {
		changes, err := r.src.Changes(ctx, r.job.MailboxGUID, "", r.job.Watermark, r.m.batch())
		if err != nil {
			return total, fmt.Errorf("read source changes: %w", err)
		}
		if len(changes) == 0 {
			return total, nil
		}
		if err := r.replay(ctx, changes); err != nil {
			return total, err
		}
		total += len(changes)
		r.job.Watermark = changes[len(changes)-1].Seq
		if err := r.save(ctx, r.job.Phase); err != nil {
			return total, err
		}
	}
}

// replay applies one batch of changes to the target: items as they are
// now in one transaction, then the deletions. Each id is in a batch once.
func (r *run) replay(ctx context.Context, changes []store.Change) error {
	var items []store.Item
	for _, c := range changes {
		if !c.Removed && c.Item != nil {
			it := *c.Item
			it.MailboxID = r.job.MailboxGUID
			items = append(items, it)
		}
	}
	if err := r.put(ctx, items); err != nil {
		return err
	}
	for _, c := range changes {
		if !c.Removed {
			continue
		}
		err := r.dst.DeleteItem(ctx, r.job.MailboxGUID, c.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("delete target item: %w", err)
		}
	}
	return nil
}
