package mailbox

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// writeHook injects faults into the writes of the stores it wraps: it
// cancels a context once a number of writes succeeded, and fails inserts
// into chosen mailboxes.
type writeHook struct {
	mu          sync.Mutex
	writes      int
	cancelAfter int // cancel once this many writes succeeded; 0 never
	cancel      context.CancelFunc
	failInserts map[string]int // mailbox id: how many inserts fail
	crashAfter  int            // every write fails once this many succeeded; 0 never
}

var errInjected = errors.New("injected store failure")

func (h *writeHook) before(ctx context.Context, insertInto string) error {
	// A store that honours its context, as SQL drivers do, deterministically.
	if err := ctx.Err(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.crashAfter > 0 && h.writes >= h.crashAfter {
		return errInjected // the process is gone: nothing more is written
	}
	if h.failInserts[insertInto] > 0 {
		h.failInserts[insertInto]--
		return errInjected
	}
	return nil
}

func (h *writeHook) after(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		return
	}
	h.writes++
	if h.writes == h.cancelAfter && h.cancel != nil {
		h.cancel()
	}
}

// hookedStore is a store whose writes go through a writeHook.
type hookedStore struct {
	store.Store
	h *writeHook
}

func (s hookedStore) write(ctx context.Context, insertInto string, w func() error) error {
	if err := s.h.before(ctx, insertInto); err != nil {
		return err
	}
	err := w()
	s.h.after(err)
	return err
}

func (s hookedStore) InsertItems(ctx context.Context, items ...store.Item) error {
	return s.write(ctx, items[0].MailboxID, func() error {
		return s.Store.InsertItems(ctx, items...)
	})
}

func (s hookedStore) UpdateItem(ctx context.Context, it store.Item, key string) error {
	return s.write(ctx, "", func() error { return s.Store.UpdateItem(ctx, it, key) })
}

func (s hookedStore) DeleteItem(ctx context.Context, mailboxID, id string) error {
	return s.write(ctx, "", func() error { return s.Store.DeleteItem(ctx, mailboxID, id) })
}

func (s hookedStore) Enqueue(ctx context.Context, m store.Outbound) error {
	return s.write(ctx, "", func() error { return s.Store.Enqueue(ctx, m) })
}

// hooked returns an engine like f.e whose databases go through h.
func hooked(f *fixture, h *writeHook) *Engine {
	o := f.e.opts
	o.Databases = map[string]store.Store{"db1": hookedStore{f.db1, h},
		"db2": hookedStore{f.db2, h}}
	return New(o)
}

// count is the number of messages in a folder of ref.
func count(t *testing.T, f *fixture, ref Ref, folder string) int {
	t.Helper()
	n, err := f.e.CountMessages(context.Background(), ref, folder, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// queued is the number of entries in db1's outbound queue.
func queued(t *testing.T, f *fixture) int {
	t.Helper()
	due, err := f.db1.Due(context.Background(), f.clock.now().Add(1e12), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(due)
}

const lunchTo = `"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}},
	{"emailAddress":{"address":"carol@onprem.test"}},
	{"emailAddress":{"address":"nobody@contoso.test"}}]`

// TestSendSurvivesCancellation cancels the caller's context after each
// write of a send in turn: the send must still finish whole, with bob's
// copy, carol's queue entry, the report on nobody and the Sent Items copy.
func TestSendSurvivesCancellation(t *testing.T) {
	// Writes: Outbox copy, bob's copy, queue entry, report, Sent Items.
	const writes = 5
	for _, how := range []string{"Send", "SendMail"} {
		for k := 1; k <= writes; k++ {
			t.Run(how+"/after write "+string(rune('0'+k)), func(t *testing.T) {
				f := newFixture(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				e := hooked(f, &writeHook{cancelAfter: k, cancel: cancel})

				err := sendLunch(ctx, t, f, e, how)
				if err != nil {
					t.Fatalf("got %v, want the send to finish", err)
				}
				if ctx.Err() == nil {
					t.Fatalf("the context was not cancelled: the send made fewer than %d writes", k)
				}
				checkWholeSend(t, f)
			})
		}
	}
}

// sendLunch sends the lunch message from alice with e, by Send (of a
// draft f's engine saves first) or by SendMail, as how names.
func sendLunch(ctx context.Context, t *testing.T, f *fixture, e *Engine, how string) error {
	t.Helper()
	doc := []byte(`{"subject":"Lunch?",` + lunchTo + `}`)
	if how != "Send" {
		return e.SendMail(ctx, alice, doc, true)
	}
	d, err := f.e.CreateDraft(context.Background(), alice, "", doc)
	if err != nil {
		t.Fatal(err)
	}
	return e.Send(ctx, alice, d.ID)
}

func checkWholeSend(t *testing.T, f *fixture) {
	t.Helper()
	checkSend(t, f, 1)
}

// checkSend is checkWholeSend with wantQueue entries left in the queue (0
// once the worker relayed carol's).
func checkSend(t *testing.T, f *fixture, wantQueue int) {
	t.Helper()
	got := map[string]int{
		"alice sent items": count(t, f, alice, SentItems),
		"alice outbox":     count(t, f, alice, Outbox),
		"alice drafts":     count(t, f, alice, Drafts),
		"alice inbox":      count(t, f, alice, Inbox), // the report on nobody
		"bob inbox":        count(t, f, bob, Inbox),
		"queue":            queued(t, f),
	}
	want := map[string]int{"alice sent items": 1, "alice outbox": 0, "alice drafts": 0,
		"alice inbox": 1, "bob inbox": 1, "queue": wantQueue}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %d messages, want %d", k, got[k], w)
		}
	}
}

// TestSendCancelledBeforeWriting: a caller gone before the first write
// ends the send with nothing written.
func TestSendCancelledBeforeWriting(t *testing.T) {
	f := newFixture(t)
	d, err := f.e.CreateDraft(context.Background(), alice, "",
		[]byte(`{"subject":"Lunch?",`+lunchTo+`}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.e.Send(ctx, alice, d.ID); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if n := count(t, f, alice, Drafts); n != 1 {
		t.Errorf("drafts: got %d, want the draft kept", n)
	}
	if n := count(t, f, bob, Inbox) + queued(t, f) + count(t, f, alice, Inbox); n != 0 {
		t.Errorf("got %d deliveries, queue entries and reports, want none", n)
	}
}

// TestLocalDeliveryFailure: bob's database refuses the insert. A failure
// that lasts must not keep alice (a later recipient) or carol (queued)
// from the message, and alice learns of it; a passing one is retried.
func TestLocalDeliveryFailure(t *testing.T) {
	tests := []struct {
		name      string
		fails     int
		bobGets   int
		reportFor string // "" for no report
	}{
		{"lasting", 99, 0, "bob@contoso.test"},
		{"passing", 1, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			e := hooked(f, &writeHook{failInserts: map[string]int{bob.ID: tt.fails}})
			ctx := context.Background()
			err := e.SendMail(ctx, alice, []byte(`{"subject":"Lunch?","toRecipients":[
				{"emailAddress":{"address":"bob@contoso.test"}},
				{"emailAddress":{"address":"alice@contoso.test"}},
				{"emailAddress":{"address":"carol@onprem.test"}}]}`), true)
			if err != nil {
				t.Fatalf("got %v, want the send accepted", err)
			}
			if got := count(t, f, bob, Inbox); got != tt.bobGets {
				t.Errorf("bob's inbox: got %d, want %d", got, tt.bobGets)
			}
			if got := queued(t, f); got != 1 {
				t.Errorf("queue: got %d entries, want 1 for carol", got)
			}
			if got := count(t, f, alice, SentItems); got != 1 {
				t.Errorf("sent items: got %d, want 1", got)
			}
			inbox, err := f.e.ListMessages(ctx, alice, Inbox, store.Query{})
			if err != nil {
				t.Fatal(err)
			}
			var subjects []string
			var report string
			for _, it := range inbox {
				m := doc(t, it)
				subjects = append(subjects, m["subject"].(string))
				if strings.HasPrefix(m["subject"].(string), "Undeliverable") {
					report = m["body"].(map[string]any)["content"].(string)
				}
			}
			wantN := 1
			if tt.reportFor != "" {
				wantN = 2
			}
			if len(inbox) != wantN {
				t.Fatalf("alice's inbox: got %q, want her own copy and %d report(s)",
					subjects, wantN-1)
			}
			if tt.reportFor != "" && (!strings.Contains(report, tt.reportFor) ||
				!strings.Contains(report, "5.2.0") ||
				strings.Contains(report, "alice@contoso.test\n")) {
				t.Errorf("report: got %q, want it to name only %s, 5.2.0", report,
					tt.reportFor)
			}
		})
	}
}

// TestSendAs: a mailbox sends only as itself (or an alias of itself);
// from or sender naming anyone else is 403 ErrorSendAsDenied and sends
// nothing, through SendMail and through Send of a draft.
func TestSendAs(t *testing.T) {
	rcpt := func(addr string) string {
		return `{"emailAddress":{"name":"Someone","address":"` + addr + `"}}`
	}
	tests := []struct {
		name, from, sender string // JSON values, "" for absent
		denied             bool
		wantFrom           string
	}{
		{"absent", "", "", false, "alice@contoso.test"},
		{"owner", rcpt("alice@contoso.test"), "", false, "alice@contoso.test"},
		{"owner in other case", rcpt("Alice@CONTOSO.test"), "", false, "Alice@CONTOSO.test"},
		{"alias of the owner", rcpt("a.adams@contoso.test"), "", false, "a.adams@contoso.test"},
		{"null", "null", "null", false, "alice@contoso.test"},
		{"name only", `{"emailAddress":{"name":"Al"}}`, "", false, "alice@contoso.test"},
		{"other mailbox", rcpt("bob@contoso.test"), "", true, ""},
		{"other premises", rcpt("carol@onprem.test"), "", true, ""},
		{"outside", rcpt("ceo@example.com"), "", true, ""},
		{"other sender", "", rcpt("bob@contoso.test"), true, ""},
		{"owner from, other sender", rcpt("alice@contoso.test"), rcpt("robert@contoso.test"),
			true, ""},
	}
	for _, how := range []string{"SendMail", "Send"} {
		for _, tt := range tests {
			t.Run(how+"/"+tt.name, func(t *testing.T) {
				f := newFixture(t)
				ctx := context.Background()
				msg := `{"subject":"As whom?",` +
					`"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]`
				if tt.from != "" {
					msg += `,"from":` + tt.from
				}
				if tt.sender != "" {
					msg += `,"sender":` + tt.sender
				}
				msg += "}"
				var err error
				if how == "Send" {
					d, derr := f.e.CreateDraft(ctx, alice, "", []byte(msg))
					if derr != nil {
						t.Fatalf("a draft may name any from: got %v", derr)
					}
					err = f.e.Send(ctx, alice, d.ID)
				} else {
					err = f.e.SendMail(ctx, alice, []byte(msg), true)
				}
				checkSendAs(t, f, err, tt.denied, tt.wantFrom)
			})
		}
	}
}

func checkSendAs(t *testing.T, f *fixture, err error, denied bool, wantFrom string) {
	t.Helper()
	ctx := context.Background()
	if denied {
		wantCode(t, err, 403, "ErrorSendAsDenied")
		var he *httpserver.Error
		if errors.As(err, &he) && !strings.HasSuffix(he.Message,
			"right to send mail on behalf of the specified sending account., "+
				"Cannot submit message.") {
			t.Errorf("message: got %q", he.Message)
		}
		if n := count(t, f, bob, Inbox) + count(t, f, alice, SentItems); n != 0 {
			t.Errorf("got %d messages delivered or sent, want none", n)
		}
		return
	}
	if err != nil {
		t.Fatalf("got %v, want the send accepted", err)
	}
	inbox, err := f.e.ListMessages(ctx, bob, Inbox, store.Query{})
	if err != nil || len(inbox) != 1 {
		t.Fatalf("bob's inbox: got %d, %v; want 1", len(inbox), err)
	}
	m := doc(t, inbox[0])
	for _, k := range []string{"from", "sender"} {
		got := address(m[k])
		if k == "sender" && got == "" {
			got = address(m["from"]) // the MIME form omits a Sender equal to From
		}
		if got != wantFrom {
			t.Errorf("bob's copy %s: got %q, want %q", k, got, wantFrom)
		}
	}
}

// TestNonDeliveryReport: mail to an address of no mailbox is accepted and
// the sender gets a report on it from the postmaster of her domain.
func TestNonDeliveryReport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	err := f.e.SendMail(ctx, alice, []byte(`{"subject":"Plans","toRecipients":[
		{"emailAddress":{"address":"bob@contoso.test"}},
		{"emailAddress":{"address":"nobody@contoso.test"}},
		{"emailAddress":{"address":"ghost@example.com"}}]}`), false)
	if err != nil {
		t.Fatalf("got %v, want the send accepted", err)
	}
	if n := count(t, f, bob, Inbox); n != 1 {
		t.Errorf("bob's inbox: got %d, want 1", n)
	}
	inbox, err := f.e.ListMessages(ctx, alice, Inbox, store.Query{})
	if err != nil || len(inbox) != 1 {
		t.Fatalf("alice's inbox: got %d, %v; want one report", len(inbox), err)
	}
	m := doc(t, inbox[0])
	from := m["from"].(map[string]any)["emailAddress"].(map[string]any)
	to := m["toRecipients"].([]any)
	body := m["body"].(map[string]any)["content"].(string)
	if m["subject"] != "Undeliverable: Plans" || from["address"] != "postmaster@contoso.test" ||
		from["name"] != "Microsoft Outlook" || m["isRead"] != false || len(to) != 1 ||
		address(to[0]) != "alice@contoso.test" {
		t.Errorf("report: got %s", inbox[0].Doc)
	}
	for _, want := range []string{"nobody@contoso.test", "ghost@example.com",
		"The email address wasn't found at the destination domain.", "550 5.1.1",
		"Final-Recipient: rfc822; nobody@contoso.test", "Status: 5.1.1", "Subject: Plans"} {
		if !strings.Contains(body, want) {
			t.Errorf("report body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "bob@contoso.test") {
		t.Errorf("report names bob, who got the message:\n%s", body)
	}

	// Mail that reaches everyone brings no report.
	err = f.e.SendMail(ctx, alice, []byte(`{"subject":"Fine",
		"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]}`), false)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, f, alice, Inbox); n != 1 {
		t.Errorf("alice's inbox: got %d, want still the one report", n)
	}
}

// racingStore edits the draft (as another request would) just before the
// send's first write, once.
type racingStore struct {
	store.Store
	race func()
	once *sync.Once
}

func (s racingStore) UpdateItem(ctx context.Context, it store.Item, key string) error {
	s.once.Do(s.race)
	return s.Store.UpdateItem(ctx, it, key)
}

// TestSendRacesAnEdit: a draft edited between Send's read and its claim is
// read again and sent, not refused with 412: the client sent no If-Match.
func TestSendRacesAnEdit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d, err := f.e.CreateDraft(ctx, alice, "", []byte(`{"subject":"Lunch?",`+lunchTo+`}`))
	if err != nil {
		t.Fatal(err)
	}
	race := func() {
		if _, err := f.e.UpdateMessage(ctx, alice, d.ID, []byte(`{"isRead":true}`), ""); err != nil {
			t.Errorf("concurrent edit: %v", err)
		}
	}
	o := f.e.opts
	o.Databases = map[string]store.Store{"db1": racingStore{f.db1, race, &sync.Once{}},
		"db2": f.db2}
	if err := New(o).Send(ctx, alice, d.ID); err != nil {
		t.Fatalf("Send after a concurrent edit: got %v, want success", err)
	}
	checkWholeSend(t, f)
}

// TestResumeSends stops a send after each of its writes in turn, as a
// gateway killed mid-send would: the message sits in the Outbox. Once it
// has sat there past ResumeAfter, ResumeSends finishes the send, writing
// nothing twice; a second call finds nothing to do, and a message that
// has just gone to the Outbox is left to the send under way.
func TestResumeSends(t *testing.T) {
	// Writes: Outbox copy, bob's copy, queue entry, report, Sent Items.
	for _, how := range []string{"Send", "SendMail"} {
		for k := 1; k <= 4; k++ {
			t.Run(how+"/crash after write "+string(rune('0'+k)), func(t *testing.T) {
				f := newFixture(t)
				ctx := context.Background()
				e := hooked(f, &writeHook{crashAfter: k})
				err := sendLunch(ctx, t, f, e, how)
				if err == nil {
					t.Fatal("the send finished although its writes failed")
				}
				if n := count(t, f, alice, Outbox); n != 1 {
					t.Fatalf("after the crash the Outbox holds %d messages, want 1", n)
				}
				// The worker relays what the first attempt queued before the
				// send is finished again: it must not be queued twice.
				wantQueue := 1
				if k >= 3 {
					relayAll(t, f)
					wantQueue = 0
				}
				// Drafts saved into the Outbox (Graph allows it) are not
				// sends, and do not hide the one left there.
				for i := 0; i < maxResumed+5; i++ {
					if _, err := f.e.CreateDraft(ctx, alice, Outbox,
						[]byte(`{"subject":"draft in the Outbox"}`)); err != nil {
						t.Fatal(err)
					}
				}
				// Not yet: the send might still be under way.
				if n, err := f.e.ResumeSends(ctx, alice, time.Hour); err != nil || n != 0 {
					t.Fatalf("ResumeSends of a fresh Outbox item: %d, %v; want 0", n, err)
				}
				if n, err := f.e.ResumeSends(ctx, alice, 0); err != nil || n != 1 {
					t.Fatalf("ResumeSends: %d, %v; want 1", n, err)
				}
				deleteDrafts(t, f)
				checkSend(t, f, wantQueue)
				if n, err := f.e.ResumeSends(ctx, alice, 0); err != nil || n != 0 {
					t.Errorf("second ResumeSends: %d, %v; want 0", n, err)
				}
				checkSend(t, f, wantQueue)
			})
		}
	}
}

// relayAll takes every due entry of db1's queue and dequeues it, as the
// worker does once the other premises took the message.
func relayAll(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	due, err := f.db1.Due(ctx, f.clock.now().Add(1e12), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range due {
		if err := f.db1.Dequeue(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// deleteDrafts removes the drafts of alice's Outbox.
func deleteDrafts(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	db := f.db1
	box, err := db.FolderByWellKnown(ctx, alice.ID, Outbox)
	if err != nil {
		t.Fatal(err)
	}
	items, err := db.ListItems(ctx, store.Query{MailboxID: alice.ID, FolderID: box.ID,
		Where: "is_draft = ?", Args: []any{true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if err := db.DeleteItem(ctx, alice.ID, it.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeliverOnce: a mailbox gets one copy of a message (by its Internet
// message id) whatever the route: an SMTP retry of a relayed message, or a
// send finished again on another premises, which delivers locally what
// the first attempt relayed. A message without a message id is delivered
// each time.
func TestDeliverOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	withID := []byte("Message-ID: <once@contoso.test>\r\nFrom: x@example.test\r\n" +
		"To: bob@contoso.test\r\nSubject: once\r\n\r\nHi.\r\n")
	for range 2 {
		if err := f.e.Deliver(ctx, bob, withID); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, f, bob, Inbox); n != 1 {
		t.Errorf("a message delivered twice: bob holds %d copies, want 1", n)
	}
	// A send's local copy, then the same message by the mail flow.
	if err := f.e.SendMail(ctx, alice, []byte(`{"subject":"hello",`+
		`"internetMessageId":"<sent@contoso.test>",`+
		`"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]}`), true); err != nil {
		t.Fatal(err)
	}
	sent, err := f.e.ListMessages(ctx, alice, SentItems, store.Query{})
	if err != nil || len(sent) != 1 {
		t.Fatalf("alice's Sent Items: %d, %v", len(sent), err)
	}
	raw, err := f.db1.ItemMIME(ctx, alice.ID, sent[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.Deliver(ctx, bob, raw); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f, bob, Inbox); n != 2 {
		t.Errorf("after a send and the same message by the mail flow: bob holds %d, want 2", n)
	}
	without := []byte("From: x@example.test\r\nTo: bob@contoso.test\r\nSubject: no id\r\n\r\nHi.\r\n")
	for range 2 {
		if err := f.e.Deliver(ctx, bob, without); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, f, bob, Inbox); n != 4 {
		t.Errorf("a message without a message id, twice: bob holds %d, want 4", n)
	}
}
