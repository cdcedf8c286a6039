package mailbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Accepts reports whether rcpt is a mailbox of this premises, for the SMTP
// receiver's RCPT TO: mail for the other side or outside the organisation
// is not ours to take.
func (e *Engine) Accepts(ctx context.Context, rcpt string) bool {
	loc, err := e.opts.Directory.Locate(ctx, rcpt)
	return err == nil && loc.Local
}

// DeliverTo delivers raw into the Inbox of the local mailbox rcpt, for the
// SMTP receiver.
func (e *Engine) DeliverTo(ctx context.Context, rcpt string, raw []byte) error {
	loc, err := e.opts.Directory.Locate(ctx, rcpt)
	if err != nil {
		return fmt.Errorf("locate %s: %w", rcpt, err)
	}
	if !loc.Local {
		return fmt.Errorf("deliver to %s: %w", rcpt, ErrUnknownRecipient)
	}
	err = e.Deliver(ctx, loc.Mailbox, raw)
	if !errors.Is(err, store.ErrMailboxLocked) {
		return err
	}
	// A move has the mailbox locked: wait for it rather than answer 4xx,
	// which would make the sender send to every recipient again. A mailbox
	// that moves to the other premises gets the message through the queue
	// of the database it leaves.
	db, err := e.db(loc.Mailbox)
	if err != nil {
		return err
	}
	return e.deliverMoving(ctx, db, rcpt, "postmaster@"+domainOf(rcpt), raw)
}
