package mailbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Accepts reports whether this premises takes mail for rcpt, for the SMTP
// receiver's RCPT TO: a mailbox here, or one of the organisation's on the
// other premises, which DeliverTo relays. Exchange too accepts mail for
// every recipient its directory knows and routes a remote mailbox's to its
// target address; it matters right after a mailbox move, when the other
// premises still sends a message where the mailbox was. Addresses outside
// the organisation are not ours to take.
func (e *Engine) Accepts(ctx context.Context, rcpt string) bool {
	_, err := e.opts.Directory.Locate(ctx, rcpt)
	return err == nil
}

// DeliverTo delivers raw into the Inbox of the local mailbox rcpt, for the
// SMTP receiver; mail for a mailbox of the other premises is relayed there
// through the queue.
func (e *Engine) DeliverTo(ctx context.Context, rcpt string, raw []byte) error {
	loc, err := e.opts.Directory.Locate(ctx, rcpt)
	if err != nil {
		return fmt.Errorf("locate %s: %w", rcpt, err)
	}
	if !loc.Local {
		return e.relay(ctx, rcpt, raw)
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

// maxHops bounds the Received fields of a message this premises relays:
// two directories that each place a mailbox on the other side would
// otherwise pass its mail back and forth for ever (RFC 5321 section 6.3
// asks a relay to detect such loops by counting them).
const maxHops = 30

// errLoop is a message that has been relayed too often.
var errLoop = errors.New("mail loop: too many Received fields")

// relay queues raw for rcpt, a mailbox of the other premises, in the
// first database's queue (every database's queue goes to the same place).
// TODO: the envelope sender is not passed down from the SMTP receiver, so
// the relayed message's is the postmaster of the recipient's domain.
func (e *Engine) relay(ctx context.Context, rcpt string, raw []byte) error {
	if hops(raw) >= maxHops {
		return fmt.Errorf("relay to %s: %w", rcpt, errLoop)
	}
	names := slices.Sorted(maps.Keys(e.opts.Databases))
	if len(names) == 0 {
		return fmt.Errorf("relay to %s: no mailbox database to queue in", rcpt)
	}
	m := store.Outbound{ID: newID(), From: "postmaster@" + domainOf(rcpt),
		Recipients: []string{rcpt}, MIME: raw, NextAttempt: e.now()}
	db := e.opts.Databases[names[0]]
	if err := retry(ctx, func() error { return db.Enqueue(ctx, m) }); err != nil {
		return fmt.Errorf("relay to %s: %w", rcpt, err)
	}
	return nil
}

// hops counts the Received fields of raw's header (RFC 5322 section 3.6.7).
func hops(raw []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, "\r") == "" {
			break
		}
		if len(line) > 9 && strings.EqualFold(line[:9], "received:") {
			n++
		}
	}
	return n
}
