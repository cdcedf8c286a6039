package conformance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

const (
	pageSize     = 5  // $top of the paging test: small, so an inbox spans many pages
	minSeeded    = 30 // messages the demo seeds into every inbox
	maxPages     = 200
	testTimeout  = 60 * time.Second
	sendTimeout  = 30 * time.Second // cross-premises delivery must finish within this
	pollInterval = 250 * time.Millisecond
)

// mailboxes are the users every read test runs for, with the same code: a cloud mailbox
// served from the gateway's store, and an on-premises one proxied to Outlook REST v2.0.
var mailboxes = []struct {
	upn    string
	onPrem bool
}{
	{alice, false},
	{carol, true},
}

// previewSuffix is the sentence the hybrid REST preview appended to every error from an
// on-premises mailbox (the Exchange hybrid announcement; real responses end with the URL
// followed by "/." and the announcement's text with ".", so both are accepted).
var previewSuffix = regexp.MustCompile(`REST APIs for this mailbox are currently in preview\. ` +
	`You can find more information about the preview REST APIs at https://dev\.outlook\.com/?\.$`)

// summarySelect is the $select of the listing tests.
var summarySelect = []string{"subject", "from", "receivedDateTime"}

// messageSummary is what the tests compare of a message.
type messageSummary struct {
	ID       string
	Subject  string
	From     string // from/emailAddress/address
	Received time.Time
	HasBody  bool // body or bodyPreview came back
}

// listing is every message of a paged listing, and the size of each page.
type listing struct {
	messages  []messageSummary
	pageSizes []int
}

// inbox is the SDK request builder for /users/{upn}/mailFolders/inbox/messages.
func inbox(c *graphClient, upn string) *users.ItemMailFoldersItemMessagesRequestBuilder {
	return c.Users().ByUserId(upn).MailFolders().ByMailFolderId("inbox").Messages()
}

// listInbox gets the first page of upn's Inbox with q and follows every @odata.nextLink
// through the SDK (WithUrl), as an SDK user pages through a folder. It is the one helper
// both premises are read with.
func listInbox(
	ctx context.Context, c *graphClient, upn string,
	q *users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters,
) (listing, error) {
	var l listing
	cfg := &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: q,
	}
	page, err := inbox(c, upn).Get(ctx, cfg)
	seen := map[string]bool{}
	for {
		if err != nil {
			return l, fmt.Errorf("page %d: %w", len(l.pageSizes)+1, err)
		}
		if err := l.add(page.GetValue()); err != nil {
			return l, err
		}
		next := page.GetOdataNextLink()
		if next == nil || *next == "" {
			return l, nil
		}
		if err := checkNextLink(*next, c.host, seen); err != nil {
			return l, err
		}
		if len(l.pageSizes) >= maxPages {
			return l, fmt.Errorf("still a nextLink after %d pages", maxPages)
		}
		page, err = inbox(c, upn).WithUrl(*next).Get(ctx, nil)
	}
}

// add appends one page of messages.
func (l *listing) add(page []models.Messageable) error {
	l.pageSizes = append(l.pageSizes, len(page))
	for _, m := range page {
		s, err := summarize(m)
		if err != nil {
			return fmt.Errorf("page %d: %w", len(l.pageSizes), err)
		}
		l.messages = append(l.messages, s)
	}
	return nil
}

// checkNextLink requires an absolute link back to the gateway that was not seen before
// (Graph's nextLink is an absolute URL; the gateway must rewrite on-prem links to itself).
func checkNextLink(next, gateway string, seen map[string]bool) error {
	u, err := url.Parse(next)
	if err != nil {
		return fmt.Errorf("nextLink %q: %w", next, err)
	}
	if !u.IsAbs() || u.Host != gateway {
		return fmt.Errorf("nextLink %q: got host %q, want absolute URL on %s",
			next, u.Host, gateway)
	}
	if seen[next] {
		return fmt.Errorf("nextLink %q repeats an earlier page", next)
	}
	seen[next] = true
	return nil
}

// summarize extracts the compared properties; a message without an id is an error.
func summarize(m models.Messageable) (messageSummary, error) {
	s := messageSummary{
		ID:      deref(m.GetId()),
		Subject: deref(m.GetSubject()),
		HasBody: m.GetBody() != nil || m.GetBodyPreview() != nil,
	}
	if s.ID == "" {
		return s, errors.New("message without id")
	}
	if from := m.GetFrom(); from != nil && from.GetEmailAddress() != nil {
		s.From = deref(from.GetEmailAddress().GetAddress())
	}
	if r := m.GetReceivedDateTime(); r != nil {
		s.Received = *r
	}
	return s, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// client returns the SDK client that holds upn's own token.
func client(t *testing.T, upn string) *graphClient {
	t.Helper()
	c, ok := env.clients[upn]
	if !ok {
		t.Fatalf("no client for %s", upn)
	}
	return c
}

// TestInboxPaging lists each Inbox five messages at a time, newest first, and checks that
// following every nextLink yields the whole folder once, in order, shaped by $select.
func TestInboxPaging(t *testing.T) {
	for _, mb := range mailboxes {
		t.Run(mb.upn, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			l, err := listInbox(ctx, client(t, mb.upn), mb.upn,
				&users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{
					Top:     ptr(int32(pageSize)),
					Select:  summarySelect,
					Orderby: []string{"receivedDateTime desc"},
				})
			if err != nil {
				t.Fatalf("list inbox: %v", err)
			}
			if got := len(l.messages); got < minSeeded {
				t.Errorf("got %d messages, want at least %d", got, minSeeded)
			}
			for i, n := range l.pageSizes {
				if n > pageSize {
					t.Errorf("page %d: got %d messages, want at most $top=%d", i+1, n, pageSize)
				}
			}
			checkUnique(t, l.messages)
			checkNewestFirst(t, l.messages)
			checkSelected(t, l.messages)
		})
	}
}

// maxReports caps the per-message failures a check reports; one broken page would
// otherwise repeat the same finding for every message after it.
const maxReports = 5

// reporter reports at most maxReports failures of one check, then how many it left out.
type reporter struct {
	t     *testing.T
	check string
	n     int
}

func (r *reporter) errorf(format string, args ...any) {
	r.t.Helper()
	if r.n++; r.n <= maxReports {
		r.t.Errorf(format, args...)
	}
}

func (r *reporter) done() {
	r.t.Helper()
	if r.n > maxReports {
		r.t.Errorf("%s: %d more failures not shown", r.check, r.n-maxReports)
	}
}

func checkUnique(t *testing.T, msgs []messageSummary) {
	t.Helper()
	r := &reporter{t: t, check: "unique ids"}
	first := map[string]int{}
	for i, m := range msgs {
		if j, dup := first[m.ID]; dup {
			r.errorf("message %d: got id %q again, first seen at %d", i, m.ID, j)
			continue
		}
		first[m.ID] = i
	}
	r.done()
}

func checkNewestFirst(t *testing.T, msgs []messageSummary) {
	t.Helper()
	r := &reporter{t: t, check: "newest first"}
	for i := 1; i < len(msgs); i++ {
		if msgs[i].Received.After(msgs[i-1].Received) {
			r.errorf("message %d: got receivedDateTime %v, after message %d's %v; "+
				"want newest first", i, msgs[i].Received, i-1, msgs[i-1].Received)
		}
	}
	r.done()
}

// checkSelected requires the $select'ed properties and none of the unselected body.
// receivedDateTime is set on every delivered message; from is null for mail that had no
// From header, so it must only come back for some.
func checkSelected(t *testing.T, msgs []messageSummary) {
	t.Helper()
	if !slices.ContainsFunc(msgs, func(m messageSummary) bool { return m.From != "" }) {
		t.Errorf("got no message with from among %d, want from as $select'ed", len(msgs))
	}
	r := &reporter{t: t, check: "$select"}
	for i, m := range msgs {
		if m.Received.IsZero() {
			r.errorf("message %d (%s): got no receivedDateTime, want it as $select'ed",
				i, m.ID)
		}
		if m.HasBody {
			r.errorf("message %d (%s): got body with $select=%s, want it left out",
				i, m.ID, strings.Join(summarySelect, ","))
		}
	}
	r.done()
}

// TestFilterByFrom checks $filter on from/emailAddress/address against the full listing:
// the filtered result must be exactly the listed messages from that sender.
func TestFilterByFrom(t *testing.T) {
	for _, mb := range mailboxes {
		t.Run(mb.upn, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c := client(t, mb.upn)
			all, err := listInbox(ctx, c, mb.upn,
				&users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{
					Top: ptr(int32(50)), Select: summarySelect,
				})
			if err != nil {
				t.Fatalf("list inbox: %v", err)
			}
			i := slices.IndexFunc(all.messages, func(m messageSummary) bool {
				return m.From != ""
			})
			if i < 0 {
				t.Fatalf("got %d messages and none with a from address, want at least %d",
					len(all.messages), minSeeded)
			}
			sender := all.messages[i].From
			for _, address := range []string{sender, "nobody.conformance@contoso.test"} {
				checkFilterByFrom(ctx, t, c, mb.upn, address, all.messages)
			}
		})
	}
}

// checkFilterByFrom runs one $filter and compares the ids with those expected from all.
func checkFilterByFrom(
	ctx context.Context, t *testing.T, c *graphClient, upn, address string,
	all []messageSummary,
) {
	t.Helper()
	var want []string
	for _, m := range all {
		if strings.EqualFold(m.From, address) {
			want = append(want, m.ID)
		}
	}
	// OData string literals double an embedded quote (OData ABNF, SQUOTE-in-string).
	filter := fmt.Sprintf("from/emailAddress/address eq '%s'",
		strings.ReplaceAll(address, "'", "''"))
	got, err := listInbox(ctx, c, upn,
		&users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{
			Filter: &filter, Top: ptr(int32(10)), Select: summarySelect,
		})
	if err != nil {
		t.Errorf("$filter=%s: %v", filter, err)
		return
	}
	var gotIDs []string
	for _, m := range got.messages {
		gotIDs = append(gotIDs, m.ID)
	}
	slices.Sort(want)
	slices.Sort(gotIDs)
	if diff := cmp.Diff(want, gotIDs); diff != "" {
		t.Errorf("$filter=%s: ids differ from the listing's (-want +got):\n%s", filter, diff)
	}
}

// TestSendMailAcrossPremises sends from the cloud mailbox to the on-premises one and
// waits for the message in the recipient's Inbox, read with the recipient's own token.
func TestSendMailAcrossPremises(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	subject := "conformance cross-premises " + rand.Text()

	msg := models.NewMessage()
	msg.SetSubject(&subject)
	body := models.NewItemBody()
	body.SetContentType(ptr(models.TEXT_BODYTYPE))
	body.SetContent(ptr("Sent by the SDK conformance test from the cloud to on-premises."))
	msg.SetBody(body)
	msg.SetToRecipients([]models.Recipientable{recipient(carol)})
	req := users.NewItemSendMailPostRequestBody()
	req.SetMessage(msg)
	req.SetSaveToSentItems(ptr(true))

	if err := client(t, alice).Users().ByUserId(alice).SendMail().Post(ctx, req, nil); err != nil {
		t.Fatalf("sendMail as %s: %v", alice, err)
	}
	got, err := waitForSubject(ctx, client(t, carol), carol, subject)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(got.From, alice) {
		t.Errorf("delivered message: got from %q, want %q", got.From, alice)
	}
}

func recipient(address string) models.Recipientable {
	email := models.NewEmailAddress()
	email.SetAddress(&address)
	r := models.NewRecipient()
	r.SetEmailAddress(email)
	return r
}

// waitForSubject polls the newest messages of upn's Inbox until one has subject,
// within sendTimeout. Exactly one copy must arrive.
func waitForSubject(
	ctx context.Context, c *graphClient, upn, subject string,
) (messageSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	cfg := &users.ItemMailFoldersItemMessagesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailFoldersItemMessagesRequestBuilderGetQueryParameters{
			Top: ptr(int32(10)), Select: summarySelect,
			Orderby: []string{"receivedDateTime desc"},
		},
	}
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	lastErr := errors.New("none")
	for {
		page, err := inbox(c, upn).Get(ctx, cfg)
		if err == nil {
			var l listing
			err = l.add(page.GetValue())
			if found := matching(l.messages, subject); len(found) == 1 {
				return found[0], err
			} else if len(found) > 1 {
				return messageSummary{}, fmt.Errorf("got %d copies of %q, want 1",
					len(found), subject)
			}
		}
		if err != nil && ctx.Err() == nil { // the poll cut short by the deadline says nothing
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return messageSummary{}, fmt.Errorf(
				"%q not in %s's Inbox after %v; last poll error: %v",
				subject, upn, sendTimeout, lastErr)
		case <-tick.C:
		}
	}
}

func matching(msgs []messageSummary, subject string) []messageSummary {
	var found []messageSummary
	for _, m := range msgs {
		if m.Subject == subject {
			found = append(found, m)
		}
	}
	return found
}

// TestMessageNotFound reads a message that no longer exists: a draft created and deleted
// through the SDK. Graph answers 404 ErrorItemNotFound, which the SDK surfaces as an
// *odataerrors.ODataError; from on-premises the message carries the preview sentence.
func TestMessageNotFound(t *testing.T) {
	for _, mb := range mailboxes {
		t.Run(mb.upn, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			err := getDeletedDraft(ctx, t, client(t, mb.upn), mb.upn)

			var oerr *odataerrors.ODataError
			if !errors.As(err, &oerr) {
				t.Fatalf("get deleted message: got error %T %v, want *odataerrors.ODataError",
					err, err)
			}
			checkODataError(t, oerr, http.StatusNotFound, "ErrorItemNotFound", mb.onPrem)
		})
	}
}

// getDeletedDraft creates a draft in upn's mailbox, deletes it and returns the error of
// reading it by its id. DELETE moves a message to Deleted Items, and deleting it there
// removes it from the mailbox (message-delete). Whether the move keeps the id (as
// immutable ids do) or gives a new one is up to the server, so it deletes until the id
// no longer resolves, at most twice.
func getDeletedDraft(ctx context.Context, t *testing.T, c *graphClient, upn string) error {
	t.Helper()
	draft := models.NewMessage()
	draft.SetSubject(ptr("conformance draft " + rand.Text()))
	created, err := c.Users().ByUserId(upn).Messages().Post(ctx, draft, nil)
	if err != nil {
		t.Fatalf("create draft: %v", err)
	}
	id := deref(created.GetId())
	if id == "" {
		t.Fatal("create draft: got no id")
	}
	message := c.Users().ByUserId(upn).Messages().ByMessageId(id)
	for i := range 2 {
		if err := message.Delete(ctx, nil); err != nil {
			t.Fatalf("delete %d of draft %s: %v", i+1, id, err)
		}
		if _, err := message.Get(ctx, nil); err != nil {
			return err
		}
	}
	t.Fatalf("draft %s: got it back after two deletes, want it gone", id)
	return nil
}

// checkODataError compares status, code and, by premises, the preview sentence.
func checkODataError(
	t *testing.T, oerr *odataerrors.ODataError, status int, code string, onPrem bool,
) {
	t.Helper()
	if got := oerr.GetStatusCode(); got != status {
		t.Errorf("got status %d, want %d", got, status)
	}
	body := oerr.GetErrorEscaped()
	if body == nil {
		t.Fatalf("got no error object in the body, want code %s", code)
	}
	if got := deref(body.GetCode()); got != code {
		t.Errorf("got code %q, want %q", got, code)
	}
	message := deref(body.GetMessage())
	if got := previewSuffix.MatchString(message); got != onPrem {
		t.Errorf("message %q: got preview sentence at its end %v, want %v",
			message, got, onPrem)
	}
}
