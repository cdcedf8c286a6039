package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/move"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// MoveMailboxSize is the number of messages in each mailbox the move test
// moves.
const MoveMailboxSize = 10_000

// cloudPG is the demo organisation's second cloud database, on PostgreSQL.
const cloudPG = "CLOUD-PG01"

// TestMoveMailboxOnline moves a 10,000-message mailbox from SQLite to
// PostgreSQL and back, and another from on premises to the cloud and
// back, each while a client keeps reading and writing it through the
// gateway. Afterwards every message is compared with a snapshot taken
// before the move plus the client's writes; the client must have seen
// only 2xx answers and 503s with Retry-After.
func TestMoveMailboxOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 40,000 messages")
	}
	o := startOrgWithPostgres(t)
	m := o.mover(t)
	ctx := context.Background()

	start := time.Now()
	o.fillTo(t, o.sys.cloud, "alice@contoso.test", MoveMailboxSize)
	o.fillTo(t, o.sys.prem, "carol@contoso.test", MoveMailboxSize)
	t.Logf("filled two mailboxes in %v", time.Since(start).Round(time.Millisecond))
	for _, mv := range []struct{ user, to string }{
		{"alice@contoso.test", cloudPG},
		{"alice@contoso.test", CloudDB},
		{"carol@contoso.test", CloudDB},
		{"carol@contoso.test", Ex2016DB},
	} {
		t.Run(mv.user+" to "+mv.to, func(t *testing.T) {
			o.moveInUse(t, m, mv.user, mv.to)
		})
	}

	// A directory sync afterwards leaves both mailboxes where they went.
	b, err := dirsync.FromDirectory(ctx, o.sys.prem.Directory)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.sys.cloud.Directory.Apply(ctx, b, directory.SyncOptions{
		CloudDatabase: CloudDB}); err != nil {
		t.Fatal(err)
	}
	for upn, want := range map[string]directory.Premises{"alice@contoso.test": directory.Cloud,
		"carol@contoso.test": directory.OnPrem} {
		if u, _ := o.sys.cloud.Directory.Lookup(ctx, upn); u.Premises != want {
			t.Errorf("%s after a sync: on %s, want %s", upn, u.Premises, want)
		}
	}
}

// moveInUse moves user's mailbox to the database to while a client reads
// and writes it and another user sends it mail, then checks every message.
func (o *testOrg) moveInUse(t *testing.T, m *move.Mover, user, to string) {
	ctx := context.Background()
	src, guid := o.mailboxStore(t, user)
	before := snapshotOf(t, src, guid)
	c := o.startClient(t, user, before)
	mail := o.startMailer(t, "bob@contoso.test", user, to)
	var locked, switched time.Time
	m.Checkpoint = func(_ context.Context, j directory.MoveJob) error {
		switch j.Phase {
		case move.Locked:
			locked = time.Now()
		case move.Switched:
			switched = time.Now()
		}
		return nil
	}
	start := time.Now()
	j, err := m.Start(ctx, user, to)
	took := time.Since(start)
	c.stop()
	mail.stop()
	if err != nil {
		t.Fatalf("move: %v", err)
	}
	c.report(t, took)
	mail.report(t)
	t.Logf("source locked %v before the switch", switched.Sub(locked).Round(time.Millisecond))

	dst, _ := o.mailboxStore(t, user)
	if dst == src {
		t.Fatalf("the directory still places %s in %s", user, j.Source)
	}
	mail.arrived(t, dst, guid)
	bin, err := dst.FolderByWellKnown(ctx, guid, "deleteditems")
	if err != nil {
		t.Fatal(err)
	}
	c.compare(t, before, snapshotOf(t, dst, guid), bin.ID, len(mail.sent))
	if _, err := src.Mailbox(ctx, guid); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("source copy after the move: got %v, want ErrNotFound", err)
	}
	// The ids the client held before the move still work, served by the
	// new side (the old copy is gone).
	c.readBack(t)
}

// startOrgWithPostgres starts the demo organisation with a second cloud
// database on PostgreSQL.
func startOrgWithPostgres(t *testing.T) *testOrg {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.FreshDSN(t, "hgmove_")
	data := t.TempDir()
	l := layout{deploy.Layout{Dir: data, Stores: func(side directory.Premises, name string) (
		store.Store, error) {
		if side == directory.Cloud && name == cloudPG {
			return postgres.Open(ctx, dsn)
		}
		return sqlite.Open(deploy.Layout{Dir: data}.Database(side, name))
	}}}
	level := slog.LevelError
	if os.Getenv("HYBRIDGRAPH_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	opts := Options{Data: data, CloudAddr: "127.0.0.1:0", OnPremAddr: "127.0.0.1:0",
		CloudSMTPAddr: "127.0.0.1:0", OnPremSMTP: "127.0.0.1:0", Out: io.Discard,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	ls, err := listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	d := &deploy.Deployment{
		CloudURL:   "http://" + ls.cloud.Addr().String(),
		OnPremURL:  "http://" + ls.onprem.Addr().String(),
		CloudSMTP:  ls.cloudSMTP.Addr().String(),
		OnPremSMTP: ls.onpremSMTP.Addr().String(),
	}
	if err := seed(ctx, l, d); err != nil {
		t.Fatal(err)
	}
	d.CloudDatabases = append(d.CloudDatabases, cloudPG)
	if err := l.Save(d); err != nil {
		t.Fatal(err)
	}
	sys, err := start(ctx, l, d, ls, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := sys.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		ls.close()
	})
	return &testOrg{d: d, sys: sys, ls: ls, dir: data}
}

// mover is a move engine over the running organisation's databases.
func (o *testOrg) mover(t *testing.T) *move.Mover {
	t.Helper()
	topo, err := onprem.LoadTopology(layout{deploy.Layout{Dir: o.dir}}.TopologyFile())
	if err != nil {
		t.Fatal(err)
	}
	return &move.Mover{
		Cloud:    move.Side{Directory: o.sys.cloud.Directory, Stores: o.sys.cloud.Stores},
		OnPrem:   move.Side{Directory: o.sys.prem.Directory, Stores: o.sys.prem.Stores},
		Topology: topo,
		Grace:    2 * time.Second,
	}
}

// mailboxStore returns the store the directory places upn's mailbox in,
// and its GUID.
func (o *testOrg) mailboxStore(t *testing.T, upn string) (store.Store, string) {
	t.Helper()
	ctx := context.Background()
	u, err := o.sys.cloud.Directory.Lookup(ctx, upn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Premises == directory.Cloud {
		return o.sys.cloud.Stores[u.Database], u.MailboxGUID
	}
	if u, err = o.sys.prem.Directory.Lookup(ctx, upn); err != nil {
		t.Fatal(err)
	}
	return o.sys.prem.Stores[u.Database], u.MailboxGUID
}

// fillTo imports varied corpus messages until upn's mailbox holds n.
func (o *testOrg) fillTo(t *testing.T, p *deploy.Premises, upn string, n int) {
	t.Helper()
	ctx := context.Background()
	u, err := p.Directory.Lookup(ctx, upn)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := corpusMessages()
	if err != nil {
		t.Fatal(err)
	}
	db := p.Stores[u.Database]
	for i := 0; ; i++ {
		have, err := db.CountItems(ctx, store.Query{MailboxID: u.MailboxGUID})
		if err != nil {
			t.Fatal(err)
		}
		if have >= n {
			return
		}
		var batch [][]byte
		for k := range min(500, n-have) {
			j := i*500 + k
			batch = append(batch, varied(msgs[j%len(msgs)], j))
		}
		if _, err := p.Engine.ImportBatch(ctx, u.Ref(), "inbox", batch); err != nil {
			// A corpus message the parser refuses: import one by one.
			for _, raw := range batch {
				p.Engine.Import(ctx, u.Ref(), "inbox", raw)
			}
		}
	}
}

// itemState is what a move must keep of an item.
type itemState struct {
	Folder, ChangeKey string
	Doc, MIME         []byte
}

// snapshotOf reads every item of a mailbox.
func snapshotOf(t *testing.T, s store.Store, guid string) map[string]itemState {
	t.Helper()
	ctx := context.Background()
	items, err := s.ListItems(ctx, store.Query{MailboxID: guid})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]itemState, len(items))
	for _, it := range items {
		b, err := s.ItemMIME(ctx, guid, it.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		out[it.ID] = itemState{Folder: it.FolderID, ChangeKey: it.ChangeKey, Doc: it.Doc,
			MIME: b}
	}
	return out
}

// written is what the client last heard of an item it wrote: its change
// key and subject, or that it went to Deleted Items (binned) or for good.
type written struct {
	changeKey, subject      string
	isRead, binned, deleted bool
}

// client reads and writes one mailbox through the gateway until stopped:
// it creates drafts, edits and deletes some of them, marks snapshot
// messages read and reads messages and lists.
type client struct {
	base, token string
	ids         []string // snapshot ids it reads and marks read
	cancel      context.CancelFunc
	done        chan struct{}

	mu       sync.Mutex
	writes   map[string]written
	requests int
	retries  int       // 503 answers
	first503 time.Time // the window in which 503s came
	last503  time.Time
	failures []string
}

func (o *testOrg) startClient(t *testing.T, upn string, before map[string]itemState) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{base: o.d.CloudURL + "/v1.0/users/" + upn, token: o.token(t, upn),
		cancel: cancel, done: make(chan struct{}), writes: map[string]written{}}
	for id := range before {
		if len(c.ids) == 300 {
			break
		}
		c.ids = append(c.ids, id)
	}
	go func() {
		defer close(c.done)
		c.loop(ctx)
	}()
	return c
}

func (c *client) stop() {
	c.cancel()
	<-c.done
}

func (c *client) loop(ctx context.Context) {
	var mine []string
	for i := 0; ctx.Err() == nil; i++ {
		switch i % 6 {
		case 0:
			if id := c.create(ctx, i); id != "" {
				mine = append(mine, id)
			}
		case 1:
			if len(mine) > 0 {
				c.edit(ctx, mine[len(mine)-1], i)
			}
		case 2:
			if len(mine) > 3 && i%12 == 2 {
				c.remove(ctx, mine[0], i%24 == 2)
				mine = mine[1:]
			}
		case 3:
			c.markRead(ctx, c.ids[i%len(c.ids)])
		case 4:
			c.do(ctx, "GET", "/messages/"+c.ids[(i*7)%len(c.ids)]+"?$select=subject", nil)
		case 5:
			c.do(ctx, "GET", "/mailFolders/inbox/messages?$top=5&$select=subject", nil)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (c *client) create(ctx context.Context, i int) string {
	subject := "client draft " + strconv.Itoa(i)
	m, ok := c.do(ctx, "POST", "/messages", map[string]any{"subject": subject,
		"body": map[string]any{"contentType": "text", "content": "Written during a move."}})
	if !ok {
		return ""
	}
	id, _ := m["id"].(string)
	c.record(id, written{changeKey: str(m["changeKey"]), subject: subject})
	return id
}

func (c *client) edit(ctx context.Context, id string, i int) {
	subject := "client draft edited " + strconv.Itoa(i)
	if m, ok := c.do(ctx, "PATCH", "/messages/"+id, map[string]any{"subject": subject}); ok {
		c.record(id, written{changeKey: str(m["changeKey"]), subject: subject})
	}
}

// remove deletes a message, which moves it to Deleted Items; forGood
// deletes it there too (Graph message-delete).
func (c *client) remove(ctx context.Context, id string, forGood bool) {
	if _, ok := c.do(ctx, "DELETE", "/messages/"+id, nil); !ok {
		return
	}
	c.record(id, written{binned: true})
	if !forGood {
		return
	}
	if _, ok := c.do(ctx, "DELETE", "/messages/"+id, nil); ok {
		c.record(id, written{deleted: true})
	}
}

func (c *client) markRead(ctx context.Context, id string) {
	if m, ok := c.do(ctx, "PATCH", "/messages/"+id, map[string]any{"isRead": true}); ok {
		c.record(id, written{changeKey: str(m["changeKey"]), subject: str(m["subject"]),
			isRead: true})
	}
}

func (c *client) record(id string, w written) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes[id] = w
}

func str(v any) string { s, _ := v.(string); return s }

// do sends one request until it gets an answer that is not 503, waiting
// as Retry-After says (at most 200 ms, to keep the test short). It reports
// whether the answer was 2xx; anything else is recorded as a failure.
func (c *client) do(ctx context.Context, method, path string, body any) (map[string]any,
	bool) {
	for {
		status, header, answer, err := c.send(method, path, body)
		c.mu.Lock()
		c.requests++
		c.mu.Unlock()
		switch {
		case err != nil:
			c.fail("%s %s: %v", method, path, err)
			return nil, false
		case status == http.StatusServiceUnavailable:
			wait, perr := strconv.ParseFloat(header.Get("Retry-After"), 64)
			if perr != nil || wait <= 0 {
				c.fail("%s %s: 503 without Retry-After: %s", method, path, answer)
				return nil, false
			}
			c.mu.Lock()
			c.retries++
			if c.first503.IsZero() {
				c.first503 = time.Now()
			}
			c.last503 = time.Now()
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				return nil, false
			case <-time.After(min(time.Duration(wait*float64(time.Second)),
				200*time.Millisecond)):
			}
			continue
		case status/100 != 2:
			c.fail("%s %s: %d %s", method, path, status, answer)
			return nil, false
		}
		var m map[string]any
		if len(answer) > 0 {
			json.Unmarshal(answer, &m)
		}
		return m, true
	}
}

func (c *client) send(method, path string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

func (c *client) fail(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// report fails t for every answer that was neither 2xx nor a 503 with
// Retry-After, and logs the figures of the move.
func (c *client) report(t *testing.T, took time.Duration) {
	t.Helper()
	for i, f := range c.failures {
		if i == 10 {
			t.Errorf("... and %d more", len(c.failures)-10)
			break
		}
		t.Error("client: " + f)
	}
	window := c.last503.Sub(c.first503)
	t.Logf("move took %v; client: %d requests, %d writes, %d answered 503 within %v",
		took.Round(time.Millisecond), c.requests, len(c.writes), c.retries,
		window.Round(time.Millisecond))
	if c.requests < 20 || len(c.writes) == 0 {
		t.Errorf("the client made %d requests and %d writes: it did not run alongside",
			c.requests, len(c.writes))
	}
}

// compare checks the target against the snapshot with the client's
// writes applied: untouched items byte for byte (document and MIME), the
// client's items as its last answer said.
func (c *client) compare(t *testing.T, before, after map[string]itemState, binFolder string,
	delivered int) {
	t.Helper()
	want := len(before) + delivered
	for id, w := range c.writes {
		switch _, old := before[id]; {
		case w.deleted && old:
			want--
		case !w.deleted && !old:
			want++
		}
	}
	if len(after) != want {
		t.Errorf("target holds %d items, want %d (%d before, %d written by the client, "+
			"%d delivered)", len(after), want, len(before), len(c.writes), delivered)
	}
	bad := 0
	for id, b := range before {
		if _, touched := c.writes[id]; touched {
			continue
		}
		a, ok := after[id]
		if !ok || a.Folder != b.Folder || a.ChangeKey != b.ChangeKey ||
			!bytes.Equal(a.Doc, b.Doc) || !bytes.Equal(a.MIME, b.MIME) {
			if bad++; bad <= 5 {
				t.Errorf("item %s: present %v, differs from the snapshot", id, ok)
			}
		}
	}
	for id, w := range c.writes {
		a, ok := after[id]
		if w.deleted || !ok {
			if w.deleted == ok {
				t.Errorf("item %s written by the client: present %v, deleted %v", id, ok,
					w.deleted)
			}
			continue
		}
		if w.binned {
			if a.Folder != binFolder {
				t.Errorf("item %s: in folder %s, want Deleted Items %s", id, a.Folder,
					binFolder)
			}
			continue
		}
		var doc struct {
			Subject string `json:"subject"`
			IsRead  bool   `json:"isRead"`
		}
		json.Unmarshal(a.Doc, &doc)
		if a.ChangeKey != w.changeKey || doc.Subject != w.subject || w.isRead && !doc.IsRead {
			t.Errorf("item %s: got change key %s, subject %q, read %v; the client's last "+
				"answer said %s, %q, %v", id, a.ChangeKey, doc.Subject, doc.IsRead,
				w.changeKey, w.subject, w.isRead)
		}
		if b, old := before[id]; old && !bytes.Equal(a.MIME, b.MIME) {
			t.Errorf("item %s: MIME changed by the move", id)
		}
	}
}

// readBack reads snapshot messages by the ids held before the move.
func (c *client) readBack(t *testing.T) {
	t.Helper()
	for _, id := range c.ids[:10] {
		status, _, body, err := c.send("GET", "/messages/"+id+"?$select=subject", nil)
		if err != nil || status != http.StatusOK {
			t.Errorf("GET a pre-move id after the move: %d %v %s", status, err, body)
		}
	}
}

// mailer sends mail from one mailbox to another through the gateway
// until stopped, numbering the subjects.
type mailer struct {
	c      *client
	to     string
	prefix string // of the subjects
	sent   []string
}

// mailSubject starts the subject of every message a mailer sends.
const mailSubject = "mail during a move "

func (o *testOrg) startMailer(t *testing.T, from, to, tag string) *mailer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &mailer{c: &client{base: o.d.CloudURL + "/v1.0/users/" + from,
		token: o.token(t, from), cancel: cancel, done: make(chan struct{})}, to: to,
		prefix: mailSubject + "to " + tag + " "}
	go func() {
		defer close(m.c.done)
		for i := 0; ctx.Err() == nil; i++ {
			subject := m.prefix + strconv.Itoa(i)
			_, ok := m.c.do(ctx, "POST", "/sendMail", map[string]any{"message": map[string]any{
				"subject": subject, "toRecipients": []any{map[string]any{
					"emailAddress": map[string]any{"address": to}}}}})
			if ok {
				m.sent = append(m.sent, subject)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	return m
}

func (m *mailer) stop() { m.c.stop() }

func (m *mailer) report(t *testing.T) {
	t.Helper()
	for _, f := range m.c.failures {
		t.Error("mailer: " + f)
	}
	if len(m.sent) == 0 {
		t.Error("the mailer sent nothing during the move")
	}
}

// arrived waits until every message sent has arrived in the mailbox, in
// dst, and checks that each came once.
func (m *mailer) arrived(t *testing.T, dst store.Store, guid string) {
	t.Helper()
	ctx := context.Background()
	var got map[string]int
	deadline := time.Now().Add(60 * time.Second)
	for {
		items, err := dst.ListItems(ctx, store.Query{MailboxID: guid,
			Where: "subject LIKE ?", Args: []any{m.prefix + "%"}})
		if err != nil {
			t.Fatal(err)
		}
		got = map[string]int{}
		for _, it := range items {
			var doc struct {
				Subject string `json:"subject"`
			}
			json.Unmarshal(it.Doc, &doc)
			got[doc.Subject]++
		}
		if len(items) >= len(m.sent) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	bad := 0
	for _, s := range m.sent {
		if got[s] != 1 {
			t.Errorf("%q arrived %d times, want once", s, got[s])
			bad++
		}
	}
	t.Logf("%d messages sent to the mailbox during the move, %d not arrived once",
		len(m.sent), bad)
}
