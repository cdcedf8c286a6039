package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
// properties.
func (e *Engine) Send(ctx context.Context, ref Ref, id string) error {
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

	// The sent copy is written before delivery, under the change key that
	// was read, so that a draft edited meanwhile is not sent half-changed.
	if err := db.UpdateItem(ctx, out.sent, it.ChangeKey); err != nil {
		if errors.Is(err, store.ErrPreconditionFailed) {
			return staleChangeKey(err)
		}
		return notFound(fmt.Errorf("send: %w", err))
	}
	// TODO: a delivery failure after this point leaves the message in Sent
	// Items while later recipients did not get it; it should go through
	// the Outbox and be retried instead.
	return e.route(ctx, db, ref, out)
}

// SendMail sends a new message in one step (Graph user-sendMail). With
// saveToSentItems the sent copy is kept in Sent Items.
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
	if saveToSentItems {
		if err := db.InsertItems(ctx, out.sent); err != nil {
			return fmt.Errorf("save sent copy: %w", err)
		}
	}
	return e.route(ctx, db, ref, out)
}

// outgoing is a message ready to leave: its Sent Items copy, its RFC 5322
// form and the recipient addresses (Bcc included).
type outgoing struct {
	sent       store.Item
	raw        []byte
	recipients []string
}

// prepare turns a message document into a sent one: sender, dates,
// Internet message id, Sent Items, no longer a draft. It checks the
// recipients and builds the MIME form.
func (e *Engine) prepare(ctx context.Context, db store.Store, ref Ref,
	m document) (outgoing, error) {
	rcpts, err := recipients(m)
	if err != nil {
		return outgoing{}, err
	}
	sentItems, err := db.FolderByWellKnown(ctx, ref.ID, SentItems)
	if err != nil {
		return outgoing{}, fmt.Errorf("send: %w", err)
	}
	owner, err := e.owner(ctx, db, ref)
	if err != nil {
		return outgoing{}, err
	}

	now := e.now()
	// TODO: Graph refuses a from that is not the mailbox (or one it may
	// send as) with 403 ErrorSendAsDenied; any from is accepted here.
	if m["from"] == nil {
		m["from"] = owner
	}
	if m["sender"] == nil {
		m["sender"] = m["from"]
	}
	if id, _ := m["internetMessageId"].(string); id == "" {
		m["internetMessageId"] = "<" + newID() + "@" + domainOf(ref.Address) + ">"
	}
	m["sentDateTime"] = schema.FormatTime(now)
	m["receivedDateTime"] = schema.FormatTime(now)
	m["isDraft"] = false
	m["isRead"] = true
	m["parentFolderId"] = sentItems.ID
	stamp(m, now)

	sent, err := toItem(ref, m)
	if err != nil {
		return outgoing{}, err
	}
	raw, err := mime.Build(sent.Doc)
	if err != nil {
		return outgoing{}, fmt.Errorf("send: %w", err)
	}
	// The copy in Sent Items keeps the form that left; it names no Bcc.
	sent.MIME = raw
	return outgoing{sent: sent, raw: raw, recipients: rcpts}, nil
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

// route hands a sent message to its recipients. The directory places each
// address: a mailbox of this premises gets it in its Inbox at once, in
// whatever database holds it; the other premises' recipients share one
// queue entry in the sender's database, which the mail-flow worker
// delivers over SMTP and retries; an address of no mailbox is dropped.
func (e *Engine) route(ctx context.Context, db store.Store, ref Ref, out outgoing) error {
	if e.opts.Directory == nil {
		return errors.New("send: the engine has no directory")
	}
	var remote []string
	delivered := map[string]bool{} // mailbox ids: two aliases get one copy
	for _, addr := range out.recipients {
		loc, err := e.opts.Directory.Locate(ctx, addr)
		switch {
		case errors.Is(err, ErrUnknownRecipient):
			// TODO: send the sender a non-delivery report; today the
			// recipient is dropped silently.
			slog.InfoContext(ctx, "dropping unknown recipient", "mailbox", ref.ID,
				"recipient", addr)
		case err != nil:
			return fmt.Errorf("locate recipient: %w", err)
		case loc.Local && !delivered[loc.Mailbox.ID]:
			delivered[loc.Mailbox.ID] = true
			if err := e.Deliver(ctx, loc.Mailbox, out.raw); err != nil {
				return fmt.Errorf("deliver to %s: %w", loc.Mailbox.ID, err)
			}
		case !loc.Local:
			remote = append(remote, addr)
		}
	}
	if len(remote) == 0 {
		return nil
	}
	err := db.Enqueue(ctx, store.Outbound{ID: newID(), From: ref.Address, Recipients: remote,
		MIME: out.raw, NextAttempt: e.now()})
	if err != nil {
		return fmt.Errorf("queue for the other premises: %w", err)
	}
	return nil
}

// receivedAt is when a delivered or imported message arrived: the time
// the MIME form says, else now.
func receivedAt(p *mime.Parsed, now time.Time) time.Time {
	if p.Date.IsZero() {
		return now
	}
	return p.Date
}
