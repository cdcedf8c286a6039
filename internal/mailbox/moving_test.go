package mailbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// movingDirectory is a directory whose entries a test switches while the
// engine runs, as a mailbox move does.
type movingDirectory struct {
	mu sync.Mutex
	m  map[string]Location
}

func (d *movingDirectory) Locate(_ context.Context, addr string) (Location, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if loc, ok := d.m[strings.ToLower(addr)]; ok {
		return loc, nil
	}
	return Location{}, ErrUnknownRecipient
}

func (d *movingDirectory) set(addr string, loc Location) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[addr] = loc
}

// moveFixture is alice and bob in db1, with an empty db2 to move to.
type moveFixture struct {
	e        *Engine
	db1, db2 store.Store
	dir      *movingDirectory
}

func newMoveFixture(t *testing.T, wrap func(store.Store) store.Store) *moveFixture {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	f := &moveFixture{dir: &movingDirectory{m: map[string]Location{}}}
	for i, db := range []*store.Store{&f.db1, &f.db2} {
		s, err := sqlite.Open(filepath.Join(tmp, fmt.Sprintf("db%d.sqlite", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		*db = s
	}
	first := f.db1
	if wrap != nil {
		first = wrap(f.db1)
	}
	f.e = New(Options{Databases: map[string]store.Store{"db1": first, "db2": f.db2},
		Directory: f.dir})
	for _, r := range []Ref{moveAlice, moveBob} {
		f.dir.set(r.Address, Location{Local: true, Mailbox: r})
		if err := f.e.EnsureMailbox(ctx, r, r.Address); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

var (
	moveAlice = Ref{ID: "mbx-alice", Address: "alice@contoso.test", Database: "db1"}
	moveBob   = Ref{ID: "mbx-bob", Address: "bob@contoso.test", Database: "db1"}
)

// moveTo copies ref's folders and items from db1 to db2, keeping ids, and
// points the directory at db2, as a move's final catch-up and switch do.
func (f *moveFixture) moveTo(t *testing.T, ref Ref) {
	ctx := context.Background()
	mb, err := f.db1.Mailbox(ctx, ref.ID)
	if err == nil {
		err = f.db2.CreateMailbox(ctx, mb)
	}
	root, err2 := f.db1.FolderByWellKnown(ctx, ref.ID, Root)
	if err != nil || err2 != nil {
		t.Errorf("move %s: %v %v", ref.Address, err, err2)
		return
	}
	queue := []store.Folder{root}
	for len(queue) > 0 {
		fl := queue[0]
		queue = queue[1:]
		if err := f.db2.CreateFolder(ctx, fl); err != nil {
			t.Errorf("copy folder: %v", err)
		}
		kids, _ := f.db1.Folders(ctx, ref.ID, fl.ID)
		queue = append(queue, kids...)
	}
	items, _ := f.db1.ListItems(ctx, store.Query{MailboxID: ref.ID})
	if len(items) > 0 {
		if err := f.db2.PutItems(ctx, items...); err != nil {
			t.Errorf("copy items: %v", err)
		}
	}
	moved := ref
	moved.Database = "db2"
	f.dir.set(ref.Address, Location{Local: true, Mailbox: moved})
}

// itemCount is the number of items of ref in db.
func itemCount(t *testing.T, db store.Store, ref Ref) int {
	t.Helper()
	n, err := db.CountItems(context.Background(), store.Query{MailboxID: ref.ID})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeliveryWaitsForMove sends to bob while a move has his mailbox
// locked: the send waits for the switch and delivers once, where bob
// lives then (another database, or the other premises through the queue).
func TestDeliveryWaitsForMove(t *testing.T) {
	for _, away := range []bool{false, true} {
		name := map[bool]string{false: "to another database", true: "to the other premises"}
		t.Run(name[away], func(t *testing.T) {
			ctx := context.Background()
			f := newMoveFixture(t, nil)
			if err := f.db1.LockMailbox(ctx, moveBob.ID, time.Minute); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			defer wg.Wait()
			wg.Go(func() {
				time.Sleep(300 * time.Millisecond)
				if away {
					f.dir.set(moveBob.Address, Location{})
					return
				}
				f.moveTo(t, moveBob)
			})
			start := time.Now()
			err := f.e.SendMail(ctx, moveAlice, []byte(`{"subject":"Hi",
				"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]}`), true)
			if err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			if d := time.Since(start); d < 250*time.Millisecond {
				t.Errorf("SendMail returned after %v, before the switch", d)
			}
			due, _ := f.db1.Due(ctx, time.Now().Add(time.Hour), 10)
			got := [3]int{itemCount(t, f.db1, moveBob), itemCount(t, f.db2, moveBob), len(due)}
			want := [3]int{0, 1, 0}
			if away {
				want = [3]int{0, 0, 1}
			}
			if got != want {
				t.Errorf("bob's copies in db1, db2, queue: got %v, want %v", got, want)
			}
			// Alice has her sent copy and no report of a failure.
			inbox, _ := f.e.ListMessages(ctx, moveAlice, Inbox, store.Query{})
			sent, _ := f.e.ListMessages(ctx, moveAlice, SentItems, store.Query{})
			if len(inbox) != 0 || len(sent) != 1 {
				t.Errorf("alice: %d in Inbox, %d in Sent Items; want 0 and 1", len(inbox),
					len(sent))
			}
		})
	}
}

// TestDeliverToWaitsForMove is the SMTP receiver's delivery meeting a move.
func TestDeliverToWaitsForMove(t *testing.T) {
	ctx := context.Background()
	f := newMoveFixture(t, nil)
	if err := f.db1.LockMailbox(ctx, moveBob.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		time.Sleep(200 * time.Millisecond)
		f.moveTo(t, moveBob)
	})
	raw := []byte("From: x@example.test\r\nTo: bob@contoso.test\r\nSubject: Hi\r\n\r\nHello.\r\n")
	if err := f.e.DeliverTo(ctx, moveBob.Address, raw); err != nil {
		t.Fatalf("DeliverTo: %v", err)
	}
	if got := [2]int{itemCount(t, f.db1, moveBob), itemCount(t, f.db2, moveBob)}; got != [2]int{0, 1} {
		t.Errorf("bob's copies in db1, db2: got %v, want [0 1]", got)
	}
}

// lockAfterClaim locks alice's mailbox and moves it once the send has put
// its message in her Outbox, so that filing it in Sent Items meets the
// lock.
type lockAfterClaim struct {
	store.Store
	once sync.Once
	wg   sync.WaitGroup
	f    *moveFixture
	t    *testing.T
}

func (s *lockAfterClaim) InsertItems(ctx context.Context, items ...store.Item) error {
	err := s.Store.InsertItems(ctx, items...)
	if err == nil && items[0].MailboxID == moveAlice.ID {
		s.once.Do(func() {
			if err := s.Store.LockMailbox(ctx, moveAlice.ID, time.Minute); err != nil {
				s.t.Error(err)
			}
			s.wg.Go(func() {
				time.Sleep(200 * time.Millisecond)
				s.f.moveTo(s.t, moveAlice)
			})
		})
	}
	return err
}

func TestFilingWaitsForMove(t *testing.T) {
	ctx := context.Background()
	hook := &lockAfterClaim{t: t}
	f := newMoveFixture(t, func(s store.Store) store.Store {
		hook.Store = s
		return hook
	})
	hook.f = f
	defer hook.wg.Wait()
	err := f.e.SendMail(ctx, moveAlice, []byte(`{"subject":"Hi",
		"toRecipients":[{"emailAddress":{"address":"bob@contoso.test"}}]}`), true)
	if err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	moved := moveAlice
	moved.Database = "db2"
	sent, err := f.e.ListMessages(ctx, moved, SentItems, store.Query{})
	if err != nil || len(sent) != 1 {
		t.Errorf("alice's Sent Items in db2: got %d, %v; want 1", len(sent), err)
	}
	outbox, _ := f.e.ListMessages(ctx, moved, Outbox, store.Query{})
	if len(outbox) != 0 {
		t.Errorf("alice's Outbox in db2: got %d, want 0", len(outbox))
	}
	if n := itemCount(t, f.db1, moveBob); n != 1 {
		t.Errorf("bob got %d copies, want 1", n)
	}
}

// TestRelayForTheOtherPremises is the SMTP receiver taking mail for a
// mailbox that lives (or has just moved) on the other premises: it is
// accepted and queued for there, unless it has gone round too often.
func TestRelayForTheOtherPremises(t *testing.T) {
	ctx := context.Background()
	f := newMoveFixture(t, nil)
	f.dir.set("carol@contoso.test", Location{})
	if !f.e.Accepts(ctx, "carol@contoso.test") || f.e.Accepts(ctx, "nobody@contoso.test") {
		t.Error("Accepts: want the other premises' mailbox taken, an unknown address not")
	}
	raw := []byte("Received: from a by b; Thu, 3 Dec 2026 20:00:00 +0000\r\n" +
		"From: x@example.test\r\nTo: carol@contoso.test\r\nSubject: Hi\r\n\r\nHello.\r\n")
	if err := f.e.DeliverTo(ctx, "carol@contoso.test", raw); err != nil {
		t.Fatalf("DeliverTo: %v", err)
	}
	due, err := f.db1.Due(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Recipients[0] != "carol@contoso.test" ||
		!bytes.Equal(due[0].MIME, raw) {
		t.Errorf("queue: got %+v, %v; want the message for carol", due, err)
	}

	looping := append(bytes.Repeat([]byte("Received: from a by b; Thu, 3 Dec 2026\r\n"),
		maxHops), raw...)
	if err := f.e.DeliverTo(ctx, "carol@contoso.test", looping); !errors.Is(err, errLoop) {
		t.Errorf("DeliverTo after %d hops: got %v, want errLoop", maxHops+1, err)
	}
}

func FuzzHops(f *testing.F) {
	f.Add([]byte("Received: a\r\nreceived: b\r\n\r\nReceived: in the body\r\n"))
	f.Add([]byte("Subject: x\n\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if n := hops(raw); n < 0 || n > bytes.Count(raw, []byte("\n"))+1 {
			t.Errorf("hops = %d for %d lines", n, bytes.Count(raw, []byte("\n"))+1)
		}
	})
}
