package mailbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/mime"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Non-delivery reports. A message that cannot reach a recipient is not
// refused: Graph's sendMail answers 202 before delivery, and Exchange tells
// the sender afterwards with a report in the Inbox from the postmaster of
// the sender's domain. The report here is one readable text part; for each
// recipient it also carries the per-recipient fields of an RFC 3464
// delivery status notification (section 2.3: Final-Recipient, Action,
// Status, Diagnostic-Code), so tools that scan for them find them.
//
// TODO: the report is text/plain, not multipart/report with a
// message/delivery-status part and the original attached (RFC 3464
// section 2, RFC 6522), because package mime builds single-part messages
// only; a client that parses reports by their MIME structure sees none.

// failure is a recipient the message did not reach, and why.
type failure struct {
	address string
	status  deliveryStatus
}

// deliveryStatus is an outcome as SMTP reports it: a reply code (RFC 5321
// section 4.2), an enhanced status code (RFC 3463) and the reason in words.
type deliveryStatus struct {
	reply, code, reason string
}

var (
	// notFoundStatus is X.1.1, bad destination mailbox address (RFC 3463
	// section 3.2), with the words Exchange Online's report uses.
	notFoundStatus = deliveryStatus{"550", "5.1.1",
		"The email address wasn't found at the destination domain."}
	// storeFailedStatus is X.2.0, other or undefined mailbox status (RFC
	// 3463 section 3.3): the recipient's database would not take it.
	storeFailedStatus = deliveryStatus{"554", "5.2.0",
		"The recipient's mailbox couldn't store the message."}
)

// postmasterName is the display name of Exchange Online's reports.
const postmasterName = "Microsoft Outlook"

// undeliverablePrefix starts a report's subject, before the original one.
const undeliverablePrefix = "Undeliverable: "

// reportUndeliverable puts a non-delivery report for the failed recipients
// of out into the sender's Inbox. A report that cannot be written is
// logged: the send itself has happened and is not undone for it.
func (e *Engine) reportUndeliverable(ctx context.Context, ref Ref, out outgoing,
	failed []failure) {
	if len(failed) == 0 {
		return
	}
	raw, err := nonDeliveryReport(out, failed, e.now())
	if err == nil {
		var (
			db store.Store
			it store.Item
		)
		db, it, err = e.inboxItem(ctx, ref, raw)
		if err == nil {
			it, err = withID(it, derivedID(out.outbox.ID, "report"))
		}
		if err == nil {
			err = retry(ctx, func() error { return db.InsertItems(ctx, it) })
		}
		if errors.Is(err, store.ErrConflict) {
			err = nil // an earlier attempt of this send reported it
		}
	}
	if err != nil {
		slog.ErrorContext(ctx, "non-delivery report not delivered", "mailbox", ref.ID,
			"recipients", len(failed), "err", err)
	}
}

// nonDeliveryReport builds the RFC 5322 form of a report on out from the
// postmaster of the sender's domain to the sender.
func nonDeliveryReport(out outgoing, failed []failure, now time.Time) ([]byte, error) {
	domain := domainOf(address(out.owner))
	var b strings.Builder
	b.WriteString("Your message couldn't be delivered to these recipients:\n\n")
	for _, f := range failed {
		fmt.Fprintf(&b, "%s\n%s\n\n", f.address, f.status.reason)
	}
	fmt.Fprintf(&b, "Original message\nSubject: %s\nMessage-ID: %s\n\n", out.subject,
		out.messageID)
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\n", domain)
	for _, f := range failed {
		fmt.Fprintf(&b, "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n"+
			"Diagnostic-Code: smtp; %s %s %s\n", f.address, f.status.code, f.status.reply,
			f.status.code, f.status.reason)
	}

	postmaster := document{"emailAddress": document{"name": postmasterName,
		"address": "postmaster@" + domain}}
	report := document{
		"subject":      undeliverablePrefix + out.subject,
		"body":         document{"contentType": "text", "content": b.String()},
		"from":         postmaster,
		"toRecipients": []any{out.owner},
		"sentDateTime": schema.FormatTime(now),
	}
	raw, err := mime.Build(encode(schema.Message, report))
	if err != nil {
		return nil, fmt.Errorf("non-delivery report: %w", err)
	}
	return raw, nil
}
