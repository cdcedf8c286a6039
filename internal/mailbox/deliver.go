package mailbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/mime"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Deliver puts an Internet message into the Inbox of ref, unread, received
// now. Local sends and the mail-flow worker (mail from the other premises)
// both deliver through it.
//
// A message whose Internet message id the mailbox holds a copy of already
// (delivered by a send, or by an earlier attempt that the sender retried)
// is not delivered again (copyID).
func (e *Engine) Deliver(ctx context.Context, ref Ref, raw []byte) error {
	db, it, err := e.inboxItem(ctx, ref, raw)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if it, err = keyByMessageID(it); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	err = db.InsertItems(ctx, it)
	if errors.Is(err, store.ErrConflict) {
		return nil // this mailbox has its copy already
	}
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	return nil
}

// keyByMessageID gives it the id copyID makes from its Internet message
// id; one without a message id keeps its own.
func keyByMessageID(it store.Item) (store.Item, error) {
	m, err := readStored(it.Doc)
	if err != nil {
		return store.Item{}, err
	}
	messageID, _ := m["internetMessageId"].(string)
	if messageID == "" {
		return it, nil
	}
	return withID(it, copyID(messageID, it.MailboxID))
}

// inboxItem makes raw into a new item of ref's Inbox, received now, and
// returns it with the database to write it to.
func (e *Engine) inboxItem(ctx context.Context, ref Ref,
	raw []byte) (store.Store, store.Item, error) {
	db, err := e.db(ref)
	if err != nil {
		return nil, store.Item{}, err
	}
	inbox, err := folder(ctx, db, ref, Inbox)
	if err != nil {
		return nil, store.Item{}, err
	}
	now := e.now()
	it, err := fromMIME(ref, raw, inbox.ID, func(*mime.Parsed) time.Time { return now }, now)
	if err != nil {
		return nil, store.Item{}, err
	}
	return db, it, nil
}

// Import stores an Internet message in folder (id or well-known name; ""
// is Inbox) as it was received: receivedDateTime comes from its Received
// or Date field, else it is now.
func (e *Engine) Import(ctx context.Context, ref Ref, folderName string,
	raw []byte) (store.Item, error) {
	items, err := e.ImportBatch(ctx, ref, folderName, [][]byte{raw})
	if err != nil {
		return store.Item{}, err
	}
	return items[0], nil
}

// ImportBatch imports many messages into one folder in one transaction:
// all are stored or none.
func (e *Engine) ImportBatch(ctx context.Context, ref Ref, folderName string,
	raws [][]byte) ([]store.Item, error) {
	db, err := e.db(ref)
	if err != nil {
		return nil, err
	}
	if folderName == "" {
		folderName = Inbox
	}
	f, err := folder(ctx, db, ref, folderName)
	if err != nil {
		return nil, err
	}

	now := e.now()
	items := make([]store.Item, len(raws))
	for i, raw := range raws {
		items[i], err = fromMIME(ref, raw, f.ID,
			func(p *mime.Parsed) time.Time { return receivedAt(p, now) }, now)
		if err != nil {
			return nil, fmt.Errorf("import message %d: %w", i, err)
		}
	}
	if err := db.InsertItems(ctx, items...); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return items, nil
}

// fromMIME makes a new, non-draft message item of folderID from raw. The
// parsed document is checked against the schema like a client's, which
// also makes its names and enum values canonical.
func fromMIME(ref Ref, raw []byte, folderID string, received func(*mime.Parsed) time.Time,
	now time.Time) (store.Item, error) {
	p, err := mime.Parse(raw)
	if err != nil {
		return store.Item{}, err
	}
	parsed, err := readStored(p.Doc)
	if err != nil {
		return store.Item{}, err
	}
	m, err := checkObject(schema.Message, parsed)
	if err != nil {
		return store.Item{}, fmt.Errorf("parsed message: %w", err)
	}
	m["receivedDateTime"] = schema.FormatTime(received(p))
	m["isDraft"] = false
	newItem(m, folderID, now)
	it, err := toItem(ref, m)
	if err != nil {
		return store.Item{}, err
	}
	it.MIME = raw
	return it, nil
}
