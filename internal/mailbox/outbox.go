package mailbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// ResumeAfter is how long a message must have sat in an Outbox before
// ResumeSends takes it for the leftover of a stopped send: twice the bound
// of a send's commit, so that no send still under way is taken.
const ResumeAfter = 2 * commitTimeout

// maxResumed bounds the Outbox items one ResumeSends reads.
const maxResumed = 100

// ResumeSends finishes the sends that a stopped process (a gateway killed
// mid-send) left in ref's Outbox: the message sat there for longer than
// olderThan, sent but not yet filed. Each is committed again from the
// start; the ids of what a send writes derive from its Outbox item
// (derivedID), so what the first attempt wrote is found, not written
// twice. The sent copy is kept in Sent Items, which a sendMail with
// saveToSentItems false would not have kept. It returns how many sends it
// finished; one that fails again stays for the next call.
func (e *Engine) ResumeSends(ctx context.Context, ref Ref, olderThan time.Duration) (int, error) {
	db, err := e.db(ref)
	if err != nil {
		return 0, err
	}
	outbox, err := db.FolderByWellKnown(ctx, ref.ID, Outbox)
	if err != nil {
		return 0, fmt.Errorf("resume sends: %w", err)
	}
	// Drafts saved into the Outbox are not sends; the oldest sends first.
	items, err := db.ListItems(ctx, store.Query{MailboxID: ref.ID, FolderID: outbox.ID,
		Where: "is_draft = ?", Args: []any{false},
		OrderBy: []store.Order{{Column: "modified"}}, Top: maxResumed})
	if err != nil {
		return 0, fmt.Errorf("resume sends: %w", err)
	}
	cutoff := e.now().Add(-olderThan)
	done := 0
	for _, it := range items {
		m, err := readStored(it.Doc)
		if err != nil {
			return done, err
		}
		modified, _ := m["lastModifiedDateTime"].(string)
		at, err := schema.ParseTime(modified)
		if draft, _ := m["isDraft"].(bool); draft || err != nil || at.After(cutoff) {
			continue
		}
		if err := e.resumeSend(ctx, db, ref, m); err != nil {
			slog.ErrorContext(ctx, "resume send", "mailbox", ref.ID, "item", it.ID, "err", err)
			continue
		}
		done++
	}
	return done, nil
}

// resumeSend commits again the send whose Outbox item is m.
func (e *Engine) resumeSend(ctx context.Context, db store.Store, ref Ref, m document) error {
	out, err := e.prepare(ctx, db, ref, m)
	if err != nil {
		return err
	}
	inOutbox := func(context.Context) error { return nil } // claimed by the first attempt
	return e.commit(ctx, db, ref, out, inOutbox, true)
}
