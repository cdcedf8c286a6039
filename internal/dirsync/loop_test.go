package dirsync

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// flakySource fails while failing is set, and reads the directory else.
type flakySource struct {
	DirectorySource
	failing atomic.Bool
}

func (s *flakySource) Read(ctx context.Context) (directory.Batch, error) {
	if s.failing.Load() {
		return directory.Batch{}, errors.New("directory server unreachable")
	}
	return s.DirectorySource.Read(ctx)
}

// syncBuffer is a log destination safe for the loop's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLoop runs the loop on a short interval: the first run at start adds
// the on-prem user, a failed run is logged and changes nothing, the next
// tick carries a change, and cancelling stops the loop.
func TestLoop(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	prem, err := directory.Open(filepath.Join(t.TempDir(), "prem.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	carol := directory.User{ObjectID: "00112233-4455-6677-8899-aabbccddeeff",
		UPN: "carol@contoso.test", Mail: "carol@contoso.test", DisplayName: "Carol",
		Premises: directory.OnPrem, RecipientType: directory.UserMailbox, Database: "DB1",
		MailboxGUID: "g-carol"}
	if err := prem.Put(ctx, carol); err != nil {
		t.Fatal(err)
	}
	src := &flakySource{DirectorySource: DirectorySource{prem}}
	runs := make(chan error, 100)
	var logs syncBuffer
	l := &Loop{Source: src, Interval: 30 * time.Millisecond,
		Client: &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client(),
			Token: func(context.Context) (string, error) {
				return f.appToken(t, auth.DirectorySync.Application...), nil
			}},
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
		Ran: func(_ directory.Summary, err error) { runs <- err },
	}
	lctx, cancel := context.WithCancel(ctx)
	ready := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		l.Run(lctx, ready)
	}()
	defer func() { cancel(); <-stopped }()

	<-ready
	if err := nextRun(t, runs); err != nil {
		t.Fatalf("first run: %v", err)
	}
	if u, err := f.cloud.Lookup(ctx, carol.UPN); err != nil || !u.SyncEnabled {
		t.Fatalf("after the first run: got %+v, %v; want carol synced", u, err)
	}

	src.failing.Store(true)
	if err := nextRun(t, runs); err == nil {
		t.Fatal("run with a failing source: got no error")
	}
	carol.DisplayName = "Carol Clark"
	if err := prem.Put(ctx, carol); err != nil {
		t.Fatal(err)
	}
	src.failing.Store(false)
	for nextRun(t, runs) != nil {
	}
	if u, _ := f.cloud.Lookup(ctx, carol.UPN); u.DisplayName != "Carol Clark" {
		t.Errorf("after a retried run: display name %q, want Carol Clark", u.DisplayName)
	}
	for _, want := range []string{"directory sync failed; retrying at the next run",
		"directory server unreachable",
		"msg=\"directory sync\" component=dirsync-agent added=1"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}

	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("loop did not stop within 5s of cancel")
	}
}

// nextRun waits for the loop's next run and returns its error.
func nextRun(t *testing.T, runs <-chan error) error {
	t.Helper()
	select {
	case err := <-runs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no sync run within 10s")
		return nil
	}
}

// TestLoopHoldsDeletes checks that the loop never confirms deletions.
func TestLoopHoldsDeletes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	prem, err := directory.Open(filepath.Join(t.TempDir(), "prem.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	c := &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client(),
		Token: func(context.Context) (string, error) {
			return f.appToken(t, auth.DirectorySync.Application...), nil
		}}
	b := directory.Batch{Full: true, Upserts: []directory.SourceUser{{ImmutableID: "i1",
		UPN: "carol@contoso.test", Mail: "carol@contoso.test",
		RecipientType: directory.UserMailbox}}}
	if _, err := c.Push(ctx, b, false); err != nil {
		t.Fatal(err)
	}
	l := &Loop{Source: DirectorySource{prem}, Client: c, Log: slog.New(slog.DiscardHandler)}
	sum, err := l.Once(ctx)
	if err != nil || sum.Held != 1 || sum.Deleted != 0 {
		t.Errorf("empty source: got %+v, %v; want the deletion held", sum, err)
	}
}

// TestSyncCommitsLDAPState runs Sync over an incremental LDAP source: the
// first run is a full read, and the cloud's clean answer commits the read
// state, so that the next run reads only the change.
func TestSyncCommitsLDAPState(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	c := &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client(),
		Token: func(context.Context) (string, error) {
			return f.appToken(t, auth.DirectorySync.Application...), nil
		}}
	ad := newFakeAD()
	ad.add("carol", recipientUserMailbox, adBase)
	src := adSource(t, ad)

	sum, err := Sync(ctx, src, c, false)
	if err != nil || sum.Added != 1 || !src.LastRead().Full {
		t.Fatalf("first run: got %+v, %v, %+v; want carol added by a full read", sum, err,
			src.LastRead())
	}
	ad.modify("carol", "displayName", "Carol Clark")
	sum, err = Sync(ctx, src, c, false)
	if err != nil || sum.Updated != 1 || src.LastRead().Full {
		t.Fatalf("second run: got %+v, %v, %+v; want carol updated incrementally", sum, err,
			src.LastRead())
	}
	if u, _ := f.cloud.Lookup(ctx, "carol@contoso.test"); u.DisplayName != "Carol Clark" {
		t.Errorf("cloud display name: got %q, want Carol Clark", u.DisplayName)
	}
}

// slowSource takes a while to read, as a large directory does.
type slowSource struct {
	DirectorySource
	delay time.Duration
}

func (s slowSource) Read(ctx context.Context) (directory.Batch, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return directory.Batch{}, ctx.Err()
	}
	return s.DirectorySource.Read(ctx)
}

// TestLoopRunTimeoutIsNotInterval checks that a run is bounded by the
// run timeout, not cut at the interval: a run slower than a short interval
// still completes.
func TestLoopRunTimeoutIsNotInterval(t *testing.T) {
	f := newFixture(t)
	prem, err := directory.Open(filepath.Join(t.TempDir(), "prem.db"), directory.OnPrem)
	if err != nil {
		t.Fatal(err)
	}
	defer prem.Close()
	runs := make(chan error, 100)
	l := &Loop{Source: slowSource{DirectorySource{prem}, 50 * time.Millisecond},
		Interval: time.Millisecond,
		Client: &Client{BaseURL: f.srv.URL, HTTP: f.srv.Client(),
			Token: func(context.Context) (string, error) {
				return f.appToken(t, auth.DirectorySync.Application...), nil
			}},
		Log: slog.New(slog.DiscardHandler),
		Ran: func(_ directory.Summary, err error) { runs <- err },
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		l.Run(ctx, nil)
	}()
	defer func() { cancel(); <-stopped }()
	if err := nextRun(t, runs); err != nil {
		t.Errorf("a run slower than the interval: %v", err)
	}
}
