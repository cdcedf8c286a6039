package mailbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mime"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Send sends an existing draft (Graph message-send). The message moves to
// Sent Items, keeping its id, and becomes read-only in its DraftOnly
// properties. ctx may end the call only while the send is being checked;
// once the first write is made the send runs to its end (see commit).
func (e *Engine) Send(ctx context.Context, ref Ref, id string) error {
	// The client sent no change key: a draft edited by another request
	// between our read and our claim is read again and sent as it now is,
	// as UpdateMessage does without If-Match.
	for attempt := 0; ; attempt++ {
		err := e.sendOnce(ctx, ref, id)
		if !errors.Is(err, store.ErrPreconditionFailed) || attempt >= maxWriteRetries {
			return err
		}
	}
}

func (e *Engine) sendOnce(ctx context.Context, ref Ref, id string) error {
	db, err := e.db(ref)
	if err != nil {
		return err
	}
	it, err := getItem(ctx, db, ref, id)
	if err != nil {
		return err
	}
	m, err := readStored(it.Doc)
	if err != nil {
		return err
	}
	if draft, _ := m["isDraft"].(bool); !draft {
		return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidOperation",
			"Only a draft message can be sent.")
	}
	out, err := e.prepare(ctx, db, ref, m)
	if err != nil {
		return err
	}

	// The draft becomes the Outbox copy under the change key that was
	// read, so that a draft edited meanwhile is not sent half-changed.
	claim := func(ctx context.Context) error {
		err := db.UpdateItem(ctx, out.outbox, it.ChangeKey)
		if errors.Is(err, store.ErrPreconditionFailed) {
			return staleChangeKey(err)
		}
		if err != nil {
			return notFound(fmt.Errorf("send: %w", err))
		}
		return nil
	}
	return e.commit(ctx, db, ref, out, claim, true)
}

// SendMail sends a new message in one step (Graph user-sendMail). With
// saveToSentItems the sent copy is kept in Sent Items. Cancellation works
// as for Send.
func (e *Engine) SendMail(ctx context.Context, ref Ref, doc []byte, saveToSentItems bool) error {
	m, err := clientMessage(doc)
	if err != nil {
		return err
	}
	db, err := e.db(ref)
	if err != nil {
		return err
	}
	newItem(m, "", e.now())
	out, err := e.prepare(ctx, db, ref, m)
	if err != nil {
		return err
	}
	claim := func(ctx context.Context) error {
		if err := db.InsertItems(ctx, out.outbox); err != nil {
			return fmt.Errorf("send: %w", err)
		}
		return nil
	}
	return e.commit(ctx, db, ref, out, claim, saveToSentItems)
}

// outgoing is a message ready to leave: its Outbox and Sent Items copies
// (one item, the same id), its RFC 5322 form, the sending mailbox, what a
// non-delivery report quotes of it, and where each recipient (Bcc
// included) gets it.
type outgoing struct {
	outbox, sent store.Item
	raw          []byte
	owner        document // the sending mailbox as a recipient value
	subject      string
	messageID    string
	route        route
}

// prepare turns a message document into a sent one: sender, dates,
// Internet message id, no longer a draft. It checks the sender and the
// recipients, builds the MIME form and places every recipient. It writes
// nothing, so ctx may end it at any point.
func (e *Engine) prepare(ctx context.Context, db store.Store, ref Ref,
	m document) (outgoing, error) {
	if e.opts.Directory == nil {
		return outgoing{}, errors.New("send: the engine has no directory")
	}
	rcpts, err := recipients(m)
	if err != nil {
		return outgoing{}, err
	}
	outbox, err := db.FolderByWellKnown(ctx, ref.ID, Outbox)
	if err != nil {
		return outgoing{}, fmt.Errorf("send: %w", err)
	}
	sentItems, err := db.FolderByWellKnown(ctx, ref.ID, SentItems)
	if err != nil {
		return outgoing{}, fmt.Errorf("send: %w", err)
	}
	owner, err := e.owner(ctx, db, ref)
	if err != nil {
		return outgoing{}, err
	}
	if err := e.checkSendAs(ctx, ref, owner, m); err != nil {
		return outgoing{}, err
	}

	now := e.now()
	if id, _ := m["internetMessageId"].(string); id == "" {
		m["internetMessageId"] = "<" + newID() + "@" + domainOf(ref.Address) + ">"
	}
	m["sentDateTime"] = schema.FormatTime(now)
	m["receivedDateTime"] = schema.FormatTime(now)
	m["isDraft"] = false
	m["isRead"] = true
	out := outgoing{owner: owner}
	out.subject, _ = m["subject"].(string)
	out.messageID, _ = m["internetMessageId"].(string)
	if out.outbox, err = filed(ref, m, outbox.ID, now); err != nil {
		return outgoing{}, err
	}
	if out.sent, err = filed(ref, m, sentItems.ID, now); err != nil {
		return outgoing{}, err
	}
	if out.raw, err = mime.Build(out.sent.Doc); err != nil {
		return outgoing{}, fmt.Errorf("send: %w", err)
	}
	// Both copies keep the form that left; it names no Bcc.
	out.outbox.MIME, out.sent.MIME = out.raw, out.raw

	out.route, err = e.place(ctx, rcpts, out.raw)
	if err != nil {
		return outgoing{}, err
	}
	return out, nil
}

// filed is m as an item of folderID, with a change key of its own.
func filed(ref Ref, m document, folderID string, now time.Time) (store.Item, error) {
	m["parentFolderId"] = folderID
	stamp(m, now)
	return toItem(ref, m)
}

// checkSendAs sets an absent from to the mailbox and an absent sender to
// from, and refuses either when it names another address: 403
// ErrorSendAsDenied (graph-api.md §5; Graph "send mail from another
// user"), since a mailbox owner may send only as itself. An address the
// directory places at the same mailbox (an alias) is the mailbox too.
// Addresses compare without case, as Exchange resolves them.
func (e *Engine) checkSendAs(ctx context.Context, ref Ref, owner, m document) error {
	for _, k := range []string{"from", "sender"} {
		addr := address(m[k])
		if addr == "" && k == "sender" {
			m[k] = m["from"] // checked already: the mailbox or an alias of it
			continue
		}
		if addr == "" {
			m[k] = owner
			continue
		}
		if strings.EqualFold(addr, address(owner)) || strings.EqualFold(addr, ref.Address) {
			continue
		}
		loc, err := e.opts.Directory.Locate(ctx, addr)
		if err == nil && loc.Local && loc.Mailbox.ID == ref.ID {
			continue
		}
		if err != nil && !errors.Is(err, ErrUnknownRecipient) {
			return fmt.Errorf("locate %s: %w", k, err)
		}
		return httpserver.Errorf(http.StatusForbidden, "ErrorSendAsDenied",
			"The user account which was used to submit this request does not have the "+
				"right to send mail on behalf of the specified sending account., "+
				"Cannot submit message.")
	}
	return nil
}

// address is the emailAddress.address of a recipient value, trimmed, or "".
func address(v any) string {
	r, _ := v.(document)
	ea, _ := r["emailAddress"].(document)
	a, _ := ea["address"].(string)
	return strings.TrimSpace(a)
}

// owner is the mailbox's own address as a recipient value, the default
// from and sender of what it sends.
func (e *Engine) owner(ctx context.Context, db store.Store, ref Ref) (document, error) {
	mb, err := db.Mailbox(ctx, ref.ID)
	if err != nil {
		return nil, notFound(fmt.Errorf("sending mailbox: %w", err))
	}
	addr := mb.Address
	if addr == "" {
		addr = ref.Address
	}
	return document{"emailAddress": document{"name": mb.DisplayName, "address": addr}}, nil
}

func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		return address[i+1:]
	}
	return "localhost"
}

// recipients collects the addresses of toRecipients, ccRecipients and
// bccRecipients, each once. None, or one that is not an address, is 400
// ErrorInvalidRecipients with Exchange's message (graph-api.md §5).
func recipients(m document) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, k := range []string{"toRecipients", "ccRecipients", "bccRecipients"} {
		list, _ := m[k].([]any)
		for _, r := range list {
			r, _ := r.(document)
			ea, _ := r["emailAddress"].(document)
			addr, _ := ea["address"].(string)
			a, err := mail.ParseAddress(addr)
			if err != nil || a.Address != strings.TrimSpace(addr) {
				return nil, httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidRecipients",
					"At least one recipient isn't valid., Recipient '%s' isn't resolved. "+
						"All recipients must be resolved before a message can be submitted.", addr)
			}
			if key := strings.ToLower(a.Address); !seen[key] {
				seen[key] = true
				out = append(out, a.Address)
			}
		}
	}
	if len(out) == 0 {
		return nil, httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidRecipients",
			"At least one recipient isn't valid., A message can't be sent because it "+
				"contains no recipients.")
	}
	return out, nil
}

// receivedAt is when a delivered or imported message arrived: the time
// the MIME form says, else now.
func receivedAt(p *mime.Parsed, now time.Time) time.Time {
	if p.Date.IsZero() {
		return now
	}
	return p.Date
}
