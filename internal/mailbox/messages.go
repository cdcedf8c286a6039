package mailbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// maxWriteRetries bounds how often a read-modify-write without If-Match is
// redone when another write to the same item came in between.
const maxWriteRetries = 3

// newestFirst is the order Graph lists messages in when the client gives
// no $orderby (receivedDateTime descending).
var newestFirst = []store.Order{{Column: "received", Desc: true}}

// query fills in the mailbox and folder of q.
func (e *Engine) query(ctx context.Context, ref Ref, folderName string,
	q store.Query) (store.Store, store.Query, error) {
	db, err := e.db(ref)
	if err != nil {
		return nil, q, err
	}
	q.MailboxID, q.FolderID = ref.ID, ""
	if folderName != "" {
		f, err := folder(ctx, db, ref, folderName)
		if err != nil {
			return nil, q, err
		}
		q.FolderID = f.ID
	}
	if len(q.OrderBy) == 0 {
		q.OrderBy = newestFirst
	}
	return db, q, nil
}

// ListMessages lists the messages of a folder (id or well-known name; ""
// for the whole mailbox) that q selects. q's Where, Args, OrderBy, Skip and
// Top come from the face; the engine sets MailboxID and FolderID. Without
// OrderBy the newest come first.
func (e *Engine) ListMessages(ctx context.Context, ref Ref, folder string,
	q store.Query) ([]store.Item, error) {
	db, q, err := e.query(ctx, ref, folder, q)
	if err != nil {
		return nil, err
	}
	items, err := db.ListItems(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return items, nil
}

// CountMessages counts the messages ListMessages would select without
// paging ($count=true).
func (e *Engine) CountMessages(ctx context.Context, ref Ref, folder string,
	q store.Query) (int, error) {
	db, q, err := e.query(ctx, ref, folder, q)
	if err != nil {
		return 0, err
	}
	n, err := db.CountItems(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("count messages: %w", err)
	}
	return n, nil
}

// Message returns one message.
func (e *Engine) Message(ctx context.Context, ref Ref, id string) (store.Item, error) {
	db, err := e.db(ref)
	if err != nil {
		return store.Item{}, err
	}
	return getItem(ctx, db, ref, id)
}

func getItem(ctx context.Context, db store.Store, ref Ref, id string) (store.Item, error) {
	if err := checkID(id); err != nil {
		return store.Item{}, err
	}
	it, err := db.GetItem(ctx, ref.ID, id)
	if err != nil {
		return store.Item{}, notFound(err)
	}
	return it, nil
}

// CreateDraft stores a client's message document as a draft in folder (id
// or well-known name; "" is Drafts) and returns it with the values the
// server sets.
func (e *Engine) CreateDraft(ctx context.Context, ref Ref, folderName string,
	doc []byte) (store.Item, error) {
	m, err := clientMessage(doc)
	if err != nil {
		return store.Item{}, err
	}
	db, err := e.db(ref)
	if err != nil {
		return store.Item{}, err
	}
	if folderName == "" {
		folderName = Drafts
	}
	f, err := folder(ctx, db, ref, folderName)
	if err != nil {
		return store.Item{}, err
	}

	now := e.now()
	m["isDraft"] = true
	m["isRead"] = true // Outlook shows a new draft as read
	m["receivedDateTime"] = schema.FormatTime(now)
	newItem(m, f.ID, now)
	it, err := toItem(ref, m)
	if err != nil {
		return store.Item{}, err
	}
	if err := db.InsertItems(ctx, it); err != nil {
		return store.Item{}, fmt.Errorf("create draft: %w", err)
	}
	return it, nil
}

func (e *Engine) now() time.Time { return e.opts.Now().UTC() }

// newItem sets what the server owns on a new message: id, folder, times,
// change key, preview, conversation, and Graph's values for properties the
// document leaves out.
func newItem(m document, folderID string, now time.Time) {
	def := func(k string, v any) {
		if m[k] == nil {
			m[k] = v
		}
	}
	def("categories", []any{})
	def("hasAttachments", false)
	def("importance", "normal")
	def("isDeliveryReceiptRequested", false)
	def("isReadReceiptRequested", false)
	def("isRead", false)
	def("isDraft", false)
	def("inferenceClassification", "focused")
	def("body", document{"contentType": "text", "content": ""})
	for _, k := range []string{"toRecipients", "ccRecipients", "bccRecipients", "replyTo"} {
		def(k, []any{})
	}
	def("flag", document{"flagStatus": "notFlagged"})
	def("bodyPreview", bodyPreview(m["body"]))

	m["id"] = newID()
	m["parentFolderId"] = folderID
	m["createdDateTime"] = schema.FormatTime(now)
	setConversation(m, now)
	stamp(m, now)
}

// setConversation derives conversationIndex and conversationId from the
// Thread-Index header, if the message has one, or from its subject.
func setConversation(m document, at time.Time) {
	subject, _ := m["subject"].(string)
	m["conversationIndex"], m["conversationId"] = conversationIndex(
		headerValue(m, "Thread-Index"), subject, at)
}

// headerValue returns the first internetMessageHeaders value named name.
func headerValue(m document, name string) string {
	hs, _ := m["internetMessageHeaders"].([]any)
	for _, h := range hs {
		h, _ := h.(document)
		if n, _ := h["name"].(string); strings.EqualFold(n, name) {
			v, _ := h["value"].(string)
			return v
		}
	}
	return ""
}

// stamp marks a write: new lastModifiedDateTime and change key.
func stamp(m document, now time.Time) {
	m["lastModifiedDateTime"] = schema.FormatTime(now)
	m["changeKey"] = newChangeKey()
}

// toItem encodes m in schema order and derives its columns.
func toItem(ref Ref, m document) (store.Item, error) {
	doc := encode(schema.Message, m)
	cols, err := schema.Message.ColumnValues(doc)
	if err != nil {
		return store.Item{}, fmt.Errorf("message columns: %w", err)
	}
	it := store.Item{MailboxID: ref.ID, Doc: doc, Cols: cols}
	it.ID, _ = m["id"].(string)
	it.FolderID, _ = m["parentFolderId"].(string)
	it.ChangeKey, _ = m["changeKey"].(string)
	return it, nil
}

// UpdateMessage applies a PATCH document to a message and returns the
// result. ifMatch is the request's If-Match value (W/"changeKey", or "");
// a stale one is 412 ErrorIrresolvableConflict. subject, body, recipients
// and the other DraftOnly properties may change only while the message is
// a draft (Graph message-update).
func (e *Engine) UpdateMessage(ctx context.Context, ref Ref, id string, patch []byte,
	ifMatch string) (store.Item, error) {
	p, err := clientMessage(patch)
	if err != nil {
		return store.Item{}, err
	}
	db, err := e.db(ref)
	if err != nil {
		return store.Item{}, err
	}
	return e.modify(ctx, db, ref, id, ifMatchKey(ifMatch), func(m document) error {
		return applyPatch(m, p)
	})
}

// applyPatch merges a validated patch into a stored message. Complex
// values are replaced whole, as Exchange does.
func applyPatch(m, patch document) error {
	draft, _ := m["isDraft"].(bool)
	for k, v := range patch {
		prop := schema.Message.Prop(schema.Graph, k)
		if prop.DraftOnly && !draft && !sameJSON(m[k], v) {
			return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidPropertySet",
				"The property '%s' can be changed only while the message is a draft.", k)
		}
	}
	for k, v := range patch {
		m[k] = v
	}
	if _, ok := patch["body"]; ok {
		m["bodyPreview"] = bodyPreview(m["body"])
	}
	if _, ok := patch["subject"]; ok && draft {
		created, _ := m["createdDateTime"].(string)
		at, _ := schema.ParseTime(created)
		setConversation(m, at)
	}
	return nil
}

// modify reads a message, lets change edit its document and writes it
// back under the change key it read. Without an If-Match key a write that
// lost a race is redone; with one it is 412.
func (e *Engine) modify(ctx context.Context, db store.Store, ref Ref, id, ifMatch string,
	change func(document) error) (store.Item, error) {
	for attempt := 0; ; attempt++ {
		it, err := getItem(ctx, db, ref, id)
		if err != nil {
			return store.Item{}, err
		}
		if ifMatch != "" && ifMatch != it.ChangeKey {
			return store.Item{}, staleChangeKey(store.ErrPreconditionFailed)
		}
		m, err := readStored(it.Doc)
		if err != nil {
			return store.Item{}, err
		}
		if err := change(m); err != nil {
			return store.Item{}, err
		}
		stamp(m, e.now())
		next, err := toItem(ref, m)
		if err != nil {
			return store.Item{}, err
		}

		err = db.UpdateItem(ctx, next, it.ChangeKey)
		switch {
		case err == nil:
			return next, nil
		case errors.Is(err, store.ErrPreconditionFailed) && ifMatch == "" &&
			attempt < maxWriteRetries:
			continue
		case errors.Is(err, store.ErrPreconditionFailed):
			return store.Item{}, staleChangeKey(err)
		}
		return store.Item{}, notFound(fmt.Errorf("update message: %w", err))
	}
}

// staleChangeKey is 412 ErrorIrresolvableConflict, Exchange's answer to a
// change key that is no longer current (EWS ResponseCode reference).
func staleChangeKey(cause error) error {
	return httpserver.Wrap(cause, http.StatusPreconditionFailed, "ErrorIrresolvableConflict",
		"The change key in the request does not match the current change key of the item.")
}

// DeleteMessage moves a message to Deleted Items, keeping its id; a
// message already there is removed for good (Graph message-delete).
// ifMatch is the request's If-Match value, as for UpdateMessage: a stale
// change key is 412 ErrorIrresolvableConflict and deletes nothing.
func (e *Engine) DeleteMessage(ctx context.Context, ref Ref, id, ifMatch string) error {
	db, err := e.db(ref)
	if err != nil {
		return err
	}
	key := ifMatchKey(ifMatch)
	it, err := getItem(ctx, db, ref, id)
	if err != nil {
		return err
	}
	if key != "" && key != it.ChangeKey {
		return staleChangeKey(store.ErrPreconditionFailed)
	}
	deleted, err := db.FolderByWellKnown(ctx, ref.ID, DeletedItems)
	if err != nil {
		return fmt.Errorf("delete message: %w", err)
	}
	if it.FolderID == deleted.ID {
		// TODO: store.DeleteItem takes no change key, so a write that lands
		// between the check above and this delete is lost with the item.
		if err := db.DeleteItem(ctx, ref.ID, id); err != nil {
			return notFound(fmt.Errorf("delete message: %w", err))
		}
		return nil
	}
	_, err = e.modify(ctx, db, ref, id, key, func(m document) error {
		m["parentFolderId"] = deleted.ID
		return nil
	})
	return err
}
