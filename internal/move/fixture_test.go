package move

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// The fixture is an organisation of two premises on SQLite (and, when
// asked, a PostgreSQL cloud database): cloud databases C1 and C2, on-prem
// P1 on an Exchange 2016 server and P13 on an Exchange 2013 one. ann has
// a cloud mailbox in C1, pat an on-prem one in P1.
const (
	c1, c2, pg, p1, p13 = "C1", "C2", "PG", "P1", "P13"
	ann, pat            = "ann@contoso.test", "pat@contoso.test"
	coexistence         = "contoso.mail.onmicrosoft.test"
)

type fixture struct {
	cloud, prem *deploy.Premises
	m           *Mover
}

func newFixture(t testing.TB, withPostgres bool) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	dsn := ""
	if withPostgres {
		dsn = pgtest.FreshDSN(t, "hgmove_")
	}
	l := deploy.Layout{Dir: dir, Stores: func(side directory.Premises, name string) (
		store.Store, error) {
		if name == pg {
			return postgres.Open(ctx, dsn)
		}
		return sqlite.Open(filepath.Join(dir, string(side), name+".db"))
	}}
	cloudDBs := []string{c1, c2}
	if withPostgres {
		cloudDBs = append(cloudDBs, pg)
	}
	f := &fixture{}
	var err error
	if f.cloud, err = l.Open(directory.Cloud, cloudDBs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cloud.Close() })
	if f.prem, err = l.Open(directory.OnPrem, []string{p1, p13}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.prem.Close() })
	topo := &onprem.Topology{
		Servers: []onprem.Server{{Name: "EX16", Build: "15.1.2507.6"},
			{Name: "EX13", Build: "15.0.1497.2"}},
		Databases: []onprem.Database{{Name: p1, Server: "EX16"}, {Name: p13, Server: "EX13"}},
		FrontEnd:  "EX16",
	}
	f.m = &Mover{
		Cloud:    Side{Directory: f.cloud.Directory, Stores: f.cloud.Stores},
		OnPrem:   Side{Directory: f.prem.Directory, Stores: f.prem.Stores},
		Topology: topo, Batch: 40, Grace: time.Millisecond,
	}
	f.addUser(t, ann, directory.Cloud, c1)
	f.addUser(t, pat, directory.OnPrem, p1)
	return f
}

// addUser puts upn in the on-prem directory, as a mailbox there or a
// remote mailbox in the cloud, has directory sync create its cloud entry,
// and creates its empty mailbox.
func (f *fixture) addUser(t testing.TB, upn string, side directory.Premises, db string) {
	t.Helper()
	ctx := context.Background()
	u := directory.User{ObjectID: uuid.NewString(), UPN: upn, Mail: upn, DisplayName: upn,
		Premises: side, MailboxGUID: uuid.NewString(), RecipientType: directory.UserMailbox,
		Database: db}
	if side == directory.Cloud {
		u.RecipientType, u.Database = directory.RemoteUserMailbox, ""
		u.TargetAddress = localPart(upn) + "@" + coexistence
	}
	if err := f.prem.Directory.Put(ctx, u); err != nil {
		t.Fatal(err)
	}
	b, err := dirsync.FromDirectory(ctx, f.prem.Directory)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := f.cloud.Directory.Apply(ctx, b, directory.SyncOptions{CloudDatabase: db})
	if err != nil || sum.Failed+sum.Held > 0 {
		t.Fatalf("sync: %+v, %v", sum, err)
	}
	home, local := f.home(t, upn)
	if err := home.Engine.EnsureMailbox(ctx, local.Ref(), upn); err != nil {
		t.Fatal(err)
	}
}

func localPart(addr string) string {
	for i := range addr {
		if addr[i] == '@' {
			return addr[:i]
		}
	}
	return addr
}

// message is a small Internet message, distinct for each i.
func message(i int) []byte {
	return fmt.Appendf(nil, "From: Sender %d <sender%d@example.test>\r\n"+
		"To: someone@contoso.test\r\nSubject: Message number %d\r\n"+
		"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\nMessage-ID: <m%d@example.test>\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n\r\nBody of message %d.\r\n",
		i%17, i%17, i, i, i)
}

// fill imports n messages into upn's Inbox and Archive.
func (f *fixture) fill(t testing.TB, upn string, n int) {
	t.Helper()
	ctx := context.Background()
	p, u := f.home(t, upn)
	for start := 0; start < n; start += 500 {
		var raws [][]byte
		for i := start; i < min(start+500, n); i++ {
			raws = append(raws, message(i))
		}
		folder := mailbox.Inbox
		if start/500%2 == 1 {
			folder = mailbox.Archive
		}
		if _, err := p.Engine.ImportBatch(ctx, u.Ref(), folder, raws); err != nil {
			t.Fatal(err)
		}
	}
}

// home returns the premises that holds upn's mailbox now, and its entry.
func (f *fixture) home(t testing.TB, upn string) (*deploy.Premises, directory.User) {
	t.Helper()
	ctx := context.Background()
	u, err := f.cloud.Directory.Lookup(ctx, upn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Premises == directory.Cloud {
		return f.cloud, u
	}
	if u, err = f.prem.Directory.Lookup(ctx, upn); err != nil {
		t.Fatal(err)
	}
	return f.prem, u
}

// storeAt returns the store of a location.
func (f *fixture) storeAt(l directory.MailboxLocation) store.Store {
	if l.Premises == directory.Cloud {
		return f.cloud.Stores[l.Database]
	}
	return f.prem.Stores[l.Database]
}

// itemState is what a move must keep of an item.
type itemState struct {
	Folder, ChangeKey, Doc string
	MIME                   string
}

// mailboxState is a mailbox's folders and items.
type mailboxState struct {
	Folders map[string]store.Folder
	Items   map[string]itemState
}

// snapshot reads every folder and item of a mailbox.
func snapshot(t testing.TB, s store.Store, guid string) mailboxState {
	t.Helper()
	ctx := context.Background()
	st := mailboxState{Folders: map[string]store.Folder{}, Items: map[string]itemState{}}
	root, err := s.FolderByWellKnown(ctx, guid, "msgfolderroot")
	if err != nil {
		t.Fatalf("snapshot: root folder: %v", err)
	}
	queue := []store.Folder{root}
	for len(queue) > 0 {
		fl := queue[0]
		queue = queue[1:]
		st.Folders[fl.ID] = fl
		kids, err := s.Folders(ctx, guid, fl.ID)
		if err != nil {
			t.Fatal(err)
		}
		queue = append(queue, kids...)
	}
	items, err := s.ListItems(ctx, store.Query{MailboxID: guid})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		b, err := s.ItemMIME(ctx, guid, it.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		st.Items[it.ID] = itemState{Folder: it.FolderID, ChangeKey: it.ChangeKey,
			Doc: string(it.Doc), MIME: string(b)}
	}
	return st
}

// sameState fails t when got differs from want.
func sameState(t testing.TB, what string, want, got mailboxState) {
	t.Helper()
	if len(got.Items) != len(want.Items) {
		t.Errorf("%s: got %d items, want %d", what, len(got.Items), len(want.Items))
	}
	if d := cmp.Diff(want, got); d != "" {
		if len(d) > 3000 {
			d = d[:3000] + "..."
		}
		t.Errorf("%s: mailbox differs (-want +got):\n%s", what, d)
	}
}

// noMailbox fails t when s still holds guid.
func noMailbox(t testing.TB, what string, s store.Store, guid string) {
	t.Helper()
	if _, err := s.Mailbox(context.Background(), guid); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: mailbox %s: got %v, want ErrNotFound", what, guid, err)
	}
}
