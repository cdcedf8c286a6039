package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// A send has two phases. prepare checks and builds everything and writes
// nothing, so the caller's context may end it. commit then writes, and
// runs to its end whatever the caller does: a client (or the gateway in
// front of it) that gives up mid-way must not leave a message saved as
// sent but never queued for its remote recipients.
//
// The store has no transaction that spans the Outbox copy, deliveries into
// other databases and the queue, so commit orders its writes instead: the
// message goes to the Outbox first, then to each recipient, and into Sent
// Items last. A send that fails part way leaves the message in the Outbox,
// never in Sent Items as if it had gone; ResumeSends (outbox.go) finishes
// it later. Every item and queue entry a send writes has an id derived
// from its Outbox item, so finishing it again writes nothing twice.

// commitTimeout bounds the commit phase, which no longer follows the
// caller's context and so needs a limit of its own.
const commitTimeout = 30 * time.Second

// writeAttempts is how often a write of the commit phase is tried: a store
// can fail for a moment (a busy SQLite database, a PostgreSQL failover),
// and giving up then would cut the send in half.
const writeAttempts = 3

// retryPause is the pause before the second attempt; it grows linearly.
var retryPause = 50 * time.Millisecond

// route is where a message goes, as the directory placed its recipients.
type route struct {
	local   []delivery // one per mailbox: two aliases of one get one copy
	remote  []string   // the other premises' addresses, one queue entry
	unknown []string   // addresses of no mailbox
}

// delivery is a message made ready for the Inbox of a local mailbox.
type delivery struct {
	address string // the recipient as the sender wrote it
	db      store.Store
	item    store.Item
}

// place asks the directory where each recipient lives and makes the Inbox
// item of every local one, so that commit has only to write.
func (e *Engine) place(ctx context.Context, rcpts []string, raw []byte) (route, error) {
	var r route
	seen := map[string]bool{} // mailbox ids
	for _, addr := range rcpts {
		loc, err := e.opts.Directory.Locate(ctx, addr)
		switch {
		case errors.Is(err, ErrUnknownRecipient):
			r.unknown = append(r.unknown, addr)
		case err != nil:
			return route{}, fmt.Errorf("locate recipient: %w", err)
		case loc.Local && !seen[loc.Mailbox.ID]:
			seen[loc.Mailbox.ID] = true
			db, it, err := e.inboxItem(ctx, loc.Mailbox, raw)
			if err != nil {
				return route{}, fmt.Errorf("deliver to %s: %w", loc.Mailbox.ID, err)
			}
			r.local = append(r.local, delivery{address: addr, db: db, item: it})
		case !loc.Local:
			r.remote = append(r.remote, addr)
		}
	}
	return r, nil
}

// commit writes a prepared send: claim puts the message into the Outbox
// (from a draft, or new), then every local recipient gets its copy, the
// other premises' recipients are queued, the sender gets a non-delivery
// report for those who cannot get it, and the message moves to Sent Items
// (or, unless keep, is removed). A local delivery that fails is reported
// to the sender and does not stop the others.
func (e *Engine) commit(ctx context.Context, db store.Store, ref Ref, out outgoing,
	claim func(context.Context) error, keep bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("send: %w", err) // nothing is written yet
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()

	if err := claim(ctx); err != nil {
		return err
	}
	if err := out.keyByOutbox(); err != nil {
		return err
	}
	failed := e.deliverLocal(ctx, db, out)
	queued := e.enqueue(ctx, db, out)
	for _, addr := range out.route.unknown {
		failed = append(failed, failure{address: addr, status: notFoundStatus})
	}
	e.reportUndeliverable(ctx, ref, out, failed)
	if queued != nil {
		return queued // the message stays in the Outbox
	}
	return e.file(ctx, db, ref, out, keep)
}

// deliverLocal writes each prepared Inbox copy and returns the recipients
// whose mailbox would not take it. A mailbox that a move has locked gets
// its copy where the move puts it (moving.go); db is the sender's, whose
// queue takes copies for mailboxes that moved to the other premises.
func (e *Engine) deliverLocal(ctx context.Context, db store.Store, out outgoing) []failure {
	var failed []failure
	for _, d := range out.route.local {
		err := retry(ctx, func() error { return d.db.InsertItems(ctx, d.item) })
		if errors.Is(err, store.ErrConflict) {
			err = nil // an earlier attempt of this send delivered it (derivedID)
		}
		if errors.Is(err, store.ErrMailboxLocked) {
			err = e.deliverMoving(ctx, db, d.address, address(out.owner), out.raw)
		}
		if err != nil {
			slog.ErrorContext(ctx, "local delivery failed", "mailbox", d.item.MailboxID,
				"err", err)
			failed = append(failed, failure{address: d.address, status: storeFailedStatus})
		}
	}
	return failed
}

// enqueue puts one entry for all of the other premises' recipients into
// the queue of the sender's database; the mail-flow worker delivers and
// retries it.
func (e *Engine) enqueue(ctx context.Context, db store.Store, out outgoing) error {
	if len(out.route.remote) == 0 {
		return nil
	}
	m := store.Outbound{ID: derivedID(out.outbox.ID, "queue"), From: address(out.owner),
		Recipients: out.route.remote, MIME: out.raw, NextAttempt: e.now()}
	err := retry(ctx, func() error { return db.Enqueue(ctx, m) })
	if errors.Is(err, store.ErrConflict) {
		err = nil // an earlier attempt of this send queued it
	}
	if err != nil {
		return fmt.Errorf("send: queue for the other premises: %w", err)
	}
	return nil
}

// file moves the Outbox copy to Sent Items, or removes it when no copy is
// kept. The engine owns the item while it is in the Outbox, so the write
// is unconditional; a copy its owner removed meanwhile stays removed.
func (e *Engine) file(ctx context.Context, db store.Store, ref Ref, out outgoing,
	keep bool) error {
	err := retry(ctx, func() error {
		if keep {
			return db.UpdateItem(ctx, out.sent, "")
		}
		return db.DeleteItem(ctx, out.sent.MailboxID, out.sent.ID)
	})
	if errors.Is(err, store.ErrMailboxLocked) {
		err = e.fileMoving(ctx, ref, out, keep)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("send: file the sent copy: %w", err)
	}
	return nil
}

// keyByOutbox gives each local recipient's copy the id copyID makes from
// the message id (or, without one, derivedID from the Outbox item), so
// that finishing the send again, by whatever route, writes none twice.
func (out *outgoing) keyByOutbox() error {
	for i, d := range out.route.local {
		id := derivedID(out.outbox.ID, "to:"+d.item.MailboxID)
		if out.messageID != "" {
			id = copyID(out.messageID, d.item.MailboxID)
		}
		it, err := withID(d.item, id)
		if err != nil {
			return err
		}
		out.route.local[i].item = it
	}
	return nil
}

// withID is it under another id.
func withID(it store.Item, id string) (store.Item, error) {
	m, err := readStored(it.Doc)
	if err != nil {
		return store.Item{}, err
	}
	m["id"] = id
	n, err := toItem(Ref{ID: it.MailboxID}, m)
	if err != nil {
		return store.Item{}, err
	}
	n.MIME = it.MIME
	return n, nil
}

// retry runs write up to writeAttempts times until it succeeds. Every
// write retried here has an id fixed before the first attempt, so
// ErrConflict on a later attempt means an earlier one went through
// although it reported a failure.
func retry(ctx context.Context, write func() error) error {
	var err error
	for i := range writeAttempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(retryPause * time.Duration(i)):
			}
		}
		err = write()
		if err == nil || i > 0 && errors.Is(err, store.ErrConflict) {
			return nil
		}
	}
	return err
}
