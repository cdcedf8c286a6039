package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Mailbox moves and mail. A move (package move) locks the source mailbox
// for its last catch-up and switch, then points the directory at the
// target; the source stays locked until it is deleted. A client's own
// writes fail then with store.ErrMailboxLocked, which the faces answer
// with 503 and Retry-After. Mail is not the client's to retry: a delivery
// or the filing of a sent copy that finds the mailbox locked waits, asks
// the directory again where the mailbox lives, and writes there. Nothing
// is refused for a move, so nothing is lost, and nothing is written twice,
// since a locked write wrote nothing.

// lockedPause is the first wait after a locked write; it doubles up to
// lockedPauseMax. A switch takes about a second.
var lockedPause = 50 * time.Millisecond

const lockedPauseMax = time.Second

// movedAway is what a write returns when the mailbox now lives on the
// other premises.
var movedAway = errors.New("mailbox moved to the other premises")

// whileMoving runs write with where the directory places address, again
// after each pause while the mailbox is locked by a move, until ctx ends.
// A write that finds the mailbox no longer local gets loc.Local false and
// decides itself.
func (e *Engine) whileMoving(ctx context.Context, address string,
	write func(loc Location) error) error {
	pause := lockedPause
	for {
		loc, err := e.opts.Directory.Locate(ctx, address)
		if err != nil {
			return fmt.Errorf("locate %s: %w", address, err)
		}
		err = write(loc)
		if !errors.Is(err, store.ErrMailboxLocked) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, lockedPauseMax)
	}
}

// deliverMoving delivers raw to the mailbox at address once its move lets
// it: into the Inbox where the directory now places it, or, when it has
// moved to the other premises, into the queue of db for the mail flow.
func (e *Engine) deliverMoving(ctx context.Context, db store.Store, address, from string,
	raw []byte) error {
	return e.whileMoving(ctx, address, func(loc Location) error {
		if !loc.Local {
			m := store.Outbound{ID: newID(), From: from, Recipients: []string{address},
				MIME: raw, NextAttempt: e.now()}
			return retry(ctx, func() error { return db.Enqueue(ctx, m) })
		}
		to, it, err := e.inboxItem(ctx, loc.Mailbox, raw)
		if err == nil {
			it, err = keyByMessageID(it)
		}
		if err != nil {
			return err
		}
		err = retry(ctx, func() error { return to.InsertItems(ctx, it) })
		if errors.Is(err, store.ErrConflict) {
			return nil // the mailbox has its copy already
		}
		return err
	})
}

// fileMoving files the sent copy of out in the sender's mailbox when a
// move had it locked: in the database the directory now names. A sender
// that moved to the other premises keeps the copy in its Outbox there,
// where that premises' Outbox sweep (ResumeSends) finishes the send: the
// recipients hold their copies already (copyID), so it only files it.
func (e *Engine) fileMoving(ctx context.Context, ref Ref, out outgoing, keep bool) error {
	return e.whileMoving(ctx, ref.Address, func(loc Location) error {
		if !loc.Local {
			slog.InfoContext(ctx, "send: sender moved to the other premises; its Outbox "+
				"sweep there files the sent copy", "mailbox", ref.ID)
			return nil
		}
		db, err := e.db(loc.Mailbox)
		if err != nil {
			return err
		}
		if keep {
			return db.UpdateItem(ctx, out.sent, "")
		}
		return db.DeleteItem(ctx, out.sent.MailboxID, out.sent.ID)
	})
}
