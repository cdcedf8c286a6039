package move

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

func TestMoves(t *testing.T) {
	tests := []struct {
		name, user, to string
		postgres       bool
		// wantCloud and wantPrem are the entries' placements after the move.
		wantCloud, wantPrem directory.Placement
	}{
		{name: "cloud to cloud", user: ann, to: c2,
			wantCloud: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.UserMailbox, Database: c2},
			wantPrem: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.RemoteUserMailbox,
				TargetAddress: "ann@" + coexistence}},
		{name: "SQLite to PostgreSQL", user: ann, to: pg, postgres: true,
			wantCloud: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.UserMailbox, Database: pg},
			wantPrem: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.RemoteUserMailbox,
				TargetAddress: "ann@" + coexistence}},
		{name: "on premises to cloud", user: pat, to: c1,
			wantCloud: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.UserMailbox, Database: c1},
			wantPrem: directory.Placement{Premises: directory.Cloud,
				RecipientType: directory.RemoteUserMailbox,
				TargetAddress: "pat@" + coexistence}},
		{name: "cloud to on premises", user: ann, to: p1,
			wantCloud: directory.Placement{Premises: directory.OnPrem,
				RecipientType: directory.MailUser, Database: p1, TargetAddress: ann},
			wantPrem: directory.Placement{Premises: directory.OnPrem,
				RecipientType: directory.UserMailbox, Database: p1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, tt.postgres)
			f.fill(t, tt.user, 230)
			_, u := f.home(t, tt.user)
			src := f.storeAt(directory.MailboxLocation{Premises: u.Premises,
				Database: u.Database})
			before := snapshot(t, src, u.MailboxGUID)

			j, err := f.m.Start(ctx, tt.user, tt.to)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if j.Phase != Done || j.Copied != 230 || j.Finished.IsZero() {
				t.Errorf("job: got phase %s, %d copied, finished %v; want done, 230",
					j.Phase, j.Copied, j.Finished)
			}
			sameState(t, "target", before, snapshot(t, f.storeAt(j.Target), u.MailboxGUID))
			noMailbox(t, "source", src, u.MailboxGUID)
			f.checkPlacements(t, tt.user, tt.wantCloud, tt.wantPrem)

			// A directory sync from the on-prem directory keeps the move. (The
			// cloud entry of an on-prem mailbox keeps its database only for
			// the record, and only when the source reports it.)
			syncOnce(t, f)
			if tt.wantCloud.RecipientType == directory.MailUser {
				if cu, _ := f.cloud.Directory.Lookup(ctx, tt.user); cu.Database == "" {
					tt.wantCloud.Database = ""
				}
			}
			f.checkPlacements(t, tt.user, tt.wantCloud, tt.wantPrem)
			if _, err := f.cloud.Directory.UnfinishedMove(ctx, u.ObjectID); !errors.Is(err,
				directory.ErrNotFound) {
				t.Errorf("unfinished job after the move: got %v, want none", err)
			}
		})
	}
}

func (f *fixture) checkPlacements(t *testing.T, upn string, cloud, prem directory.Placement) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		dir  *directory.Directory
		want directory.Placement
	}{{f.cloud.Directory, cloud}, {f.prem.Directory, prem}} {
		u, err := c.dir.Lookup(ctx, upn)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Placement(); got != c.want {
			t.Errorf("%s entry of %s: got %+v, want %+v", u.Premises, upn, got, c.want)
		}
	}
}

// syncOnce runs directory sync from the on-prem directory into the cloud.
func syncOnce(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	b, err := dirsync.FromDirectory(ctx, f.prem.Directory)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := f.cloud.Directory.Apply(ctx, b, directory.SyncOptions{CloudDatabase: c1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed+sum.Held > 0 {
		t.Fatalf("sync: %+v", sum)
	}
}

func TestMoveRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 10)
	tests := []struct {
		name, user, to, want string
	}{
		{"same database", ann, c1, "already in cloud/C1"},
		{"same database, other case", ann, strings.ToLower(c1), "already in cloud/C1"},
		{"unknown user", "nobody@contoso.test", c2, "no user"},
		{"unknown database", ann, "NOPE", "no mailbox database NOPE"},
		{"Exchange 2013 database", ann, p13, "has no REST endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.Start(ctx, tt.user, tt.to)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrRefused with %q", err, tt.want)
			}
		})
	}

	// A second move while one is unfinished.
	stop := errors.New("stop")
	f.m.Checkpoint = stopAt(Prepared, stop)
	if _, err := f.m.Start(ctx, ann, c2); !errors.Is(err, stop) {
		t.Fatalf("first move: got %v, want the checkpoint's error", err)
	}
	f.m.Checkpoint = nil
	if _, err := f.m.Start(ctx, ann, p1); !errors.Is(err, ErrInProgress) ||
		!strings.Contains(err.Error(), "finish it with --resume") {
		t.Errorf("second move: got %v, want ErrInProgress saying to resume", err)
	}
	// One saved a moment ago without an error may still be running.
	j, err := f.cloud.Directory.UnfinishedMove(ctx, userOf(t, f, ann).ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cloud.Directory.SaveMove(ctx, withNoError(j), j.Updated); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Start(ctx, ann, p1); !errors.Is(err, ErrInProgress) ||
		!strings.Contains(err.Error(), "may still be running") {
		t.Errorf("move beside a running one: got %v, want it may still be running", err)
	}
	if _, err := f.m.Resume(ctx, pat); !errors.Is(err, ErrNoJob) {
		t.Errorf("resume without a job: got %v, want ErrNoJob", err)
	}
}

// stopAt returns a checkpoint that fails with err the first time a job
// reaches phase.
func stopAt(phase string, err error) func(context.Context, directory.MoveJob) error {
	done := false
	return func(_ context.Context, j directory.MoveJob) error {
		if j.Phase == phase && !done {
			done = true
			return err
		}
		return nil
	}
}

// TestInterrupted stops a move after each phase, then resumes it (the
// result is the same as an uninterrupted move) or rolls it back (the
// source is as it was and writable, the target holds nothing).
func TestInterrupted(t *testing.T) {
	phases := []string{Created, Prepared, Copying, Copied, CaughtUp, Locked, Synced,
		Switching, Switched}
	for _, phase := range phases {
		for _, then := range []string{"resume", "rollback"} {
			t.Run(phase+"/"+then, func(t *testing.T) {
				interrupt(t, phase, then, false)
			})
		}
	}
	t.Run("cancelled context/resume", func(t *testing.T) {
		interrupt(t, Copying, "resume", true)
	})
}

func interrupt(t *testing.T, phase, then string, cancel bool) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 130)
	_, u := f.home(t, ann)
	src := f.cloud.Stores[c1]
	before := snapshot(t, src, u.MailboxGUID)

	stop := errors.New("killed")
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	f.m.Checkpoint = stopAt(phase, stop)
	if cancel {
		f.m.Checkpoint = func(_ context.Context, j directory.MoveJob) error {
			if j.Phase == phase {
				stopRun()
			}
			return nil
		}
	}
	if _, err := f.m.Start(runCtx, ann, c2); err == nil {
		t.Fatalf("Start: got nil error, want it stopped at %s", phase)
	}
	f.m.Checkpoint = nil
	j, err := f.cloud.Directory.UnfinishedMove(ctx, u.ObjectID)
	if err != nil {
		t.Fatalf("no unfinished job after the stop: %v", err)
	}

	if then == "resume" {
		if j, err = f.m.Resume(ctx, ann); err != nil {
			t.Fatalf("Resume: %v", err)
		}
		if j.Phase != Done {
			t.Errorf("after resume: phase %s, want done", j.Phase)
		}
		sameState(t, "target", before, snapshot(t, f.cloud.Stores[c2], u.MailboxGUID))
		noMailbox(t, "source", src, u.MailboxGUID)
		return
	}

	j, err = f.m.Rollback(ctx, ann)
	if reached(phase, Switching) {
		if !errors.Is(err, ErrRefused) {
			t.Errorf("Rollback after the switch started: got %v, want ErrRefused", err)
		}
		return
	}
	if err != nil || j.Phase != RolledBack {
		t.Fatalf("Rollback: %v, phase %s", err, j.Phase)
	}
	sameState(t, "source", before, snapshot(t, src, u.MailboxGUID))
	noMailbox(t, "target", f.cloud.Stores[c2], u.MailboxGUID)
	if cu, _ := f.cloud.Directory.Lookup(ctx, ann); cu.Database != c1 {
		t.Errorf("after rollback the directory says %s, want %s", cu.Database, c1)
	}
	// The source takes writes again.
	if err := src.DeleteItem(ctx, u.MailboxGUID, firstID(before)); err != nil {
		t.Errorf("write after rollback: %v", err)
	}
}

func firstID(s mailboxState) string {
	for id := range s.Items {
		return id
	}
	return ""
}

// TestLockedSourceRefusesWrites checks what clients meet between the lock
// and the deletion of the source: every write fails with ErrMailboxLocked.
func TestLockedSourceRefusesWrites(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 5)
	_, u := f.home(t, ann)
	f.m.Checkpoint = stopAt(Synced, errors.New("stop"))
	f.m.Start(ctx, ann, c2)
	src := f.cloud.Stores[c1]
	items, err := src.ListItems(ctx, store.Query{MailboxID: u.MailboxGUID})
	if err != nil || len(items) == 0 {
		t.Fatalf("source items: %d, %v", len(items), err)
	}
	if err := src.DeleteItem(ctx, u.MailboxGUID, items[0].ID); !errors.Is(err,
		store.ErrMailboxLocked) {
		t.Errorf("delete in the locked source: got %v, want ErrMailboxLocked", err)
	}
	if _, err := f.cloud.Engine.Import(ctx, u.Ref(), "inbox", message(99)); !errors.Is(err,
		store.ErrMailboxLocked) {
		t.Errorf("import into the locked source: got %v, want ErrMailboxLocked", err)
	}
}

// TestTakeOver covers two processes on one job: a job saved moments ago
// without an error may still be running, so it is not taken; and a
// rollback that takes a job from a running move stops that move at its
// next save, with the source left unlocked.
func TestTakeOver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 100)
	_, u := f.home(t, ann)
	f.m.Checkpoint = stopAt(Copied, errors.New("killed"))
	f.m.Start(ctx, ann, c2)
	f.m.Checkpoint = nil

	// As a killed process leaves it: no error, saved just now.
	j, err := f.cloud.Directory.UnfinishedMove(ctx, u.ObjectID)
	if err != nil {
		t.Fatal(err)
	}
	read := j.Updated
	j.LastError, j.Updated = "", time.Now()
	if err := f.cloud.Directory.SaveMove(ctx, j, read); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Resume(ctx, ann); !errors.Is(err, ErrRefused) ||
		!strings.Contains(err.Error(), "may still be running") {
		t.Errorf("Resume of a job saved just now: got %v, want refused", err)
	}

	at := func(d time.Duration) func() time.Time {
		return func() time.Time { return time.Now().Add(d) }
	}
	a, b := *f.m, *f.m
	a.Now, b.Now = at(liveWindow), at(3*liveWindow)
	rolled := false
	a.Checkpoint = func(ctx context.Context, j directory.MoveJob) error {
		if j.Phase == CaughtUp && !rolled {
			rolled = true
			if _, err := b.Rollback(ctx, ann); err != nil {
				t.Errorf("Rollback by another process: %v", err)
			}
		}
		return nil
	}
	if _, err := a.Resume(ctx, ann); !errors.Is(err, directory.ErrMoveChanged) {
		t.Errorf("the move rolled back under it: got %v, want ErrMoveChanged", err)
	}
	jobs, _ := f.cloud.Directory.Moves(ctx, u.ObjectID)
	if len(jobs) != 1 || jobs[0].Phase != RolledBack {
		t.Errorf("jobs: got %+v, want one rolled back", jobs)
	}
	src := f.cloud.Stores[c1]
	if _, err := f.cloud.Engine.Import(ctx, u.Ref(), "inbox", message(500)); err != nil {
		t.Errorf("write to the source after the rollback: %v", err)
	}
	noMailbox(t, "target", f.cloud.Stores[c2], u.MailboxGUID)
	if n, _ := src.CountItems(ctx, store.Query{MailboxID: u.MailboxGUID}); n != 101 {
		t.Errorf("source holds %d items, want 101", n)
	}
}

// TestLockLapses stops a move just after its lock, as a killed process
// would: the lock refuses writes until its lease runs out, then lets them
// in; a resume takes it again and the writes made meanwhile reach the
// target. Nothing is lost.
func TestLockLapses(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 20)
	_, u := f.home(t, ann)
	src := f.cloud.Stores[c1]
	f.m.LockLease = 300 * time.Millisecond
	f.m.Checkpoint = stopAt(Locked, errors.New("killed"))
	if _, err := f.m.Start(ctx, ann, c2); err == nil {
		t.Fatal("Start: got nil error, want it stopped at locked")
	}
	f.m.Checkpoint = nil
	if _, err := f.cloud.Engine.Import(ctx, u.Ref(), "inbox", message(98)); !errors.Is(err,
		store.ErrMailboxLocked) {
		t.Fatalf("write under the lock: got %v, want ErrMailboxLocked", err)
	}
	time.Sleep(2 * f.m.LockLease)
	if _, err := f.cloud.Engine.Import(ctx, u.Ref(), "inbox", message(99)); err != nil {
		t.Fatalf("write after the lease ran out: %v", err)
	}
	before := snapshot(t, src, u.MailboxGUID)
	if len(before.Items) != 21 {
		t.Fatalf("source holds %d items, want 21", len(before.Items))
	}
	j, err := f.m.Resume(ctx, ann)
	if err != nil || j.Phase != Done {
		t.Fatalf("Resume: %v, phase %s", err, j.Phase)
	}
	sameState(t, "target", before, snapshot(t, f.cloud.Stores[c2], u.MailboxGUID))
}

// TestLockRenewed runs a move whose lease is shorter than its final steps
// take: the renewals keep the source locked throughout, and the move ends
// with every item in the target.
func TestLockRenewed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 20)
	_, u := f.home(t, ann)
	src := f.cloud.Stores[c1]
	before := snapshot(t, src, u.MailboxGUID)
	f.m.LockLease = 150 * time.Millisecond
	f.m.Checkpoint = func(ctx context.Context, j directory.MoveJob) error {
		if j.Phase != Locked && j.Phase != Synced {
			return nil
		}
		time.Sleep(400 * time.Millisecond) // longer than the lease
		if _, err := src.ListItems(ctx, store.Query{MailboxID: u.MailboxGUID}); err != nil {
			return err
		}
		if err := src.DeleteItem(ctx, u.MailboxGUID, firstID(before)); !errors.Is(err,
			store.ErrMailboxLocked) {
			t.Errorf("at %s, past the lease: delete got %v, want ErrMailboxLocked", j.Phase,
				err)
		}
		return nil
	}
	if j, err := f.m.Start(ctx, ann, c2); err != nil || j.Phase != Done {
		t.Fatalf("Start: %v", err)
	}
	sameState(t, "target", before, snapshot(t, f.cloud.Stores[c2], u.MailboxGUID))
}

func withNoError(j directory.MoveJob) directory.MoveJob {
	j.LastError, j.Updated = "", time.Now()
	return j
}

func userOf(t *testing.T, f *fixture, upn string) directory.User {
	t.Helper()
	_, u := f.home(t, upn)
	return u
}

// TestDeltaTokenAfterMoveBack takes a delta token, moves the mailbox away
// and back, and follows the token: the mailbox's copy is another one, whose
// change numbers mean other changes, so the token is gone (410) rather
// than read against the new log and missing changes.
func TestDeltaTokenAfterMoveBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, false)
	f.fill(t, ann, 30)
	delta := func(from *mailbox.DeltaState) (mailbox.DeltaState, error) {
		_, u := f.home(t, ann)
		var st mailbox.DeltaState
		for {
			page, err := f.cloud.Engine.MessageDelta(ctx, u.Ref(), "inbox", from, "", 100)
			if err != nil {
				return st, err
			}
			st, from = page.Next, &page.Next
			if !page.More {
				return st, nil
			}
		}
	}
	token, err := delta(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{c2, c1} {
		if _, err := f.m.Start(ctx, ann, to); err != nil {
			t.Fatalf("move to %s: %v", to, err)
		}
	}
	_, err = delta(&token)
	var he *httpserver.Error
	if !errors.As(err, &he) || he.Status != http.StatusGone || he.Code != "SyncStateNotFound" {
		t.Fatalf("old token after a move away and back: got %v, want 410 SyncStateNotFound",
			err)
	}
	if _, err := delta(nil); err != nil {
		t.Errorf("a new round after the 410: %v", err)
	}
}
