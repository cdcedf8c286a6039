package mailbox

import (
	"context"
	"fmt"
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
	return e.Deliver(ctx, loc.Mailbox, raw)
}
