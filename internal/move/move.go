package move

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Phases of a job, in order; each names the last step the job finished.
const (
	Created   = "created"
	Prepared  = "prepared"
	Copying   = "copying"
	Copied    = "copied"
	CaughtUp  = "caught-up"
	Locked    = "locked"
	Synced    = "synced"
	Switching = "switching"
	Switched  = "switched"
	Done      = "done"
	// RollingBack and RolledBack are the phases of a rollback.
	RollingBack = "rolling-back"
	RolledBack  = "rolled-back"
)

// liveWindow is how recently a job without a recorded error may have been
// saved for Resume and Rollback to take it as still running in another
// process: a running move saves after every batch, a stopped one records
// its error, a killed one neither.
const liveWindow = 15 * time.Second

// phaseOrder ranks the phases of a move that goes forward.
var phaseOrder = []string{Created, Prepared, Copying, Copied, CaughtUp, Locked, Synced,
	Switching, Switched, Done}

// reached reports whether phase p is at or past q.
func reached(p, q string) bool {
	return slices.Index(phaseOrder, p) >= slices.Index(phaseOrder, q)
}

// Defaults of a Mover's tuning fields.
const (
	DefaultBatch = 500
	// DefaultGrace is as long as the gateway lets a proxied request or a
	// send's commit phase run (30 s each): a request that found the
	// mailbox in the source just before the switch has ended by then.
	DefaultGrace = 30 * time.Second
)

// Side is one premises as a move sees it: its directory and its mailbox
// databases by name.
type Side struct {
	Directory *directory.Directory
	Stores    map[string]store.Store
}

// Mover moves mailboxes between the databases of Cloud and OnPrem. The
// cloud directory holds the jobs.
type Mover struct {
	Cloud, OnPrem Side
	// Topology is the on-prem servers and databases; a database on a
	// server without REST is refused as a target. Nil refuses every
	// on-prem target.
	Topology *onprem.Topology
	// Batch is the number of items copied or replayed per transaction;
	// 0 means DefaultBatch.
	Batch int
	// Grace is the wait between the switch and the deletion of the source
	// copy; 0 means DefaultGrace.
	Grace time.Duration
	// LockLease is how long the source's lock holds without renewal; 0
	// means DefaultLockLease. The move renews it until the switch, so
	// that the lock of a move whose process died lapses by itself and
	// clients' writes go in again until a resume takes it anew.
	LockLease time.Duration
	// Checkpoint, if set, is called after each step is saved. An error
	// stops the move there, as a crash would: tests stop moves with it,
	// the command reports progress.
	Checkpoint func(ctx context.Context, j directory.MoveJob) error
	Log        *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Errors a caller tells apart.
var (
	// ErrRefused marks a move that is not started: the request itself is
	// wrong (unknown user or database, same database, no REST there).
	ErrRefused = errors.New("move refused")
	// ErrInProgress means the user has an unfinished move, which must be
	// resumed or rolled back first.
	ErrInProgress = directory.ErrMoveInProgress
	// ErrNoJob means there is no unfinished move to resume or roll back.
	ErrNoJob = errors.New("no unfinished move")
)

func refused(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// DefaultLockLease bounds the 503s of a move whose process died between
// its lock and its switch.
const DefaultLockLease = 30 * time.Second

func (m *Mover) lease() time.Duration {
	if m.LockLease > 0 {
		return m.LockLease
	}
	return DefaultLockLease
}

func (m *Mover) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func (m *Mover) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Mover) batch() int {
	if m.Batch > 0 {
		return m.Batch
	}
	return DefaultBatch
}

func (m *Mover) grace() time.Duration {
	if m.Grace > 0 {
		return m.Grace
	}
	return DefaultGrace
}

// Locate returns where database name is: the premises that lists it.
func (m *Mover) Locate(name string) (directory.MailboxLocation, error) {
	// Exchange's database names ignore case.
	for _, n := range m.databaseNames() {
		if strings.EqualFold(n, name) {
			name = n
			break
		}
	}
	_, cloud := m.Cloud.Stores[name]
	_, prem := m.OnPrem.Stores[name]
	switch {
	case cloud && prem:
		return directory.MailboxLocation{}, refused(
			"database %s is listed on both premises", name)
	case cloud:
		return directory.MailboxLocation{Premises: directory.Cloud, Database: name}, nil
	case prem:
		return directory.MailboxLocation{Premises: directory.OnPrem, Database: name}, nil
	}
	return directory.MailboxLocation{}, refused("no mailbox database %s (known: %v)", name,
		m.databaseNames())
}

func (m *Mover) databaseNames() []string {
	var names []string
	for _, s := range []Side{m.Cloud, m.OnPrem} {
		for n := range s.Stores {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

func (m *Mover) side(p directory.Premises) Side {
	if p == directory.OnPrem {
		return m.OnPrem
	}
	return m.Cloud
}

func (m *Mover) store(l directory.MailboxLocation) (store.Store, error) {
	s, ok := m.side(l.Premises).Stores[l.Database]
	if !ok {
		return nil, fmt.Errorf("mailbox database %s is not open", l)
	}
	return s, nil
}

// Start moves user's mailbox to target and runs the move to its end.
func (m *Mover) Start(ctx context.Context, user, target string) (directory.MoveJob, error) {
	j, err := m.plan(ctx, user, target)
	if err != nil {
		return j, err
	}
	if err := m.Cloud.Directory.StartMove(ctx, j); err != nil {
		return j, err
	}
	m.log().Info("move started", "user", j.UPN, "from", j.Source.String(),
		"to", j.Target.String(), "job", j.ID)
	if m.Checkpoint != nil {
		if err := m.Checkpoint(ctx, j); err != nil {
			r := &run{m: m, job: j}
			r.fail(ctx, err)
			return r.job, err
		}
	}
	return m.run(ctx, j)
}

// Resume finishes user's unfinished move from the phase it recorded.
func (m *Mover) Resume(ctx context.Context, user string) (directory.MoveJob, error) {
	j, err := m.takeOver(ctx, user)
	if err != nil {
		return j, err
	}
	if j.Phase == RollingBack {
		return j, refused("the move of %s is being rolled back: run the rollback again",
			j.UPN)
	}
	m.log().Info("move resumed", "user", j.UPN, "phase", j.Phase, "job", j.ID)
	return m.run(ctx, j)
}

// Job returns user's unfinished move, or ErrNoJob.
func (m *Mover) Job(ctx context.Context, user string) (directory.MoveJob, error) {
	return m.unfinished(ctx, user)
}

// takeOver returns user's unfinished move for this process to carry on,
// unless it looks carried on by another one still.
func (m *Mover) takeOver(ctx context.Context, user string) (directory.MoveJob, error) {
	j, err := m.unfinished(ctx, user)
	if err != nil {
		return j, err
	}
	if since := m.now().Sub(j.Updated); j.LastError == "" && since < liveWindow {
		return j, refused("the move of %s was saved %v ago at phase %s and may still be "+
			"running in another process; stop it, or wait %v", j.UPN,
			since.Round(time.Second), j.Phase, liveWindow)
	}
	return j, nil
}

func (m *Mover) unfinished(ctx context.Context, user string) (directory.MoveJob, error) {
	u, err := m.Cloud.Directory.Lookup(ctx, user)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.MoveJob{}, refused("no user %s in the cloud directory", user)
	}
	if err != nil {
		return directory.MoveJob{}, err
	}
	j, err := m.Cloud.Directory.UnfinishedMove(ctx, u.ObjectID)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.MoveJob{}, fmt.Errorf("%w of %s", ErrNoJob, u.UPN)
	}
	return j, err
}

// plan checks a new move of user to the database target and returns its
// job, not yet recorded.
func (m *Mover) plan(ctx context.Context, user, target string) (directory.MoveJob, error) {
	u, err := m.Cloud.Directory.Lookup(ctx, user)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.MoveJob{}, refused("no user %s in the cloud directory", user)
	}
	if err != nil {
		return directory.MoveJob{}, err
	}
	if j, err := m.Cloud.Directory.UnfinishedMove(ctx, u.ObjectID); err == nil {
		if since := m.now().Sub(j.Updated); j.LastError == "" && since < liveWindow {
			return j, fmt.Errorf("%w: %s to %s, at phase %s, saved %v ago: it may still be "+
				"running in another process; wait for it to end", ErrInProgress, j.UPN,
				j.Target, j.Phase, since.Round(time.Second))
		}
		return j, fmt.Errorf("%w: %s to %s, at phase %s; finish it with --resume or undo it "+
			"with --rollback", ErrInProgress, j.UPN, j.Target, j.Phase)
	}
	src, err := m.source(ctx, u)
	if err != nil {
		return directory.MoveJob{}, err
	}
	dst, err := m.Locate(target)
	if err != nil {
		return directory.MoveJob{}, err
	}
	if src == dst {
		return directory.MoveJob{}, refused("the mailbox of %s is already in %s", u.UPN, dst)
	}
	if err := m.checkTarget(dst); err != nil {
		return directory.MoveJob{}, err
	}
	if src.Premises != dst.Premises {
		if _, err := m.OnPrem.Directory.Lookup(ctx, u.UPN); err != nil {
			return directory.MoveJob{}, refused("%s is not in the on-prem directory, "+
				"so its mailbox cannot change premises: %v", u.UPN, err)
		}
	}
	watermark, err := m.checkStores(ctx, u.MailboxGUID, src, dst)
	if err != nil {
		return directory.MoveJob{}, err
	}
	now := m.now()
	return directory.MoveJob{ID: uuid.NewString(), UserID: u.ObjectID, UPN: u.UPN,
		MailboxGUID: u.MailboxGUID, Source: src, Target: dst, Phase: Created,
		Watermark: watermark, Created: now, Updated: now}, nil
}

// source finds where u's mailbox is: the cloud directory places cloud
// mailboxes; an on-prem mailbox's database is in the on-prem directory.
func (m *Mover) source(ctx context.Context, u directory.User) (directory.MailboxLocation,
	error) {
	if u.MailboxGUID == "" {
		return directory.MailboxLocation{}, refused("%s has no mailbox", u.UPN)
	}
	if u.Premises == directory.Cloud && u.RecipientType == directory.UserMailbox {
		return directory.MailboxLocation{Premises: directory.Cloud, Database: u.Database}, nil
	}
	if u.Premises != directory.OnPrem || m.OnPrem.Directory == nil {
		return directory.MailboxLocation{}, refused("%s is a %s, not a mailbox this "+
			"organisation holds", u.UPN, u.RecipientType)
	}
	pu, err := m.OnPrem.Directory.Lookup(ctx, u.UPN)
	if err != nil {
		return directory.MailboxLocation{}, fmt.Errorf("on-prem directory: %s: %w", u.UPN, err)
	}
	if pu.RecipientType != directory.UserMailbox || pu.Database == "" {
		return directory.MailboxLocation{}, refused("%s has no mailbox on premises", u.UPN)
	}
	return directory.MailboxLocation{Premises: directory.OnPrem, Database: pu.Database}, nil
}

// checkTarget refuses an on-prem database on a server older than Exchange
// 2016 CU3: it has no REST endpoint, so the mailbox would lose its Graph
// access (requirement R2, exchange-hybrid.md §4), which is what moves off
// such servers are for, not onto them.
func (m *Mover) checkTarget(dst directory.MailboxLocation) error {
	if dst.Premises != directory.OnPrem {
		return nil
	}
	if m.Topology == nil {
		return refused("no on-prem topology to check database %s against", dst.Database)
	}
	srv, ok := m.Topology.DatabaseServer(dst.Database)
	if !ok {
		return refused("database %s is on no server of the on-prem topology", dst.Database)
	}
	b, err := onprem.ParseBuild(srv.Build)
	if err != nil || !b.ServesREST() {
		return refused("database %s is on %s (build %s), which has no REST endpoint "+
			"(Exchange 2016 CU3 or later needed): its mailboxes could not be reached "+
			"through Graph", dst.Database, srv.Name, srv.Build)
	}
	return nil
}

// checkStores checks that the source holds the mailbox and the target
// does not (a copy already in the target is not this job's to overwrite),
// and returns the source's change number before anything is copied: the
// watermark after which the catch-up replays.
func (m *Mover) checkStores(ctx context.Context, guid string, src,
	dst directory.MailboxLocation) (int64, error) {
	from, err := m.store(src)
	if err != nil {
		return 0, err
	}
	to, err := m.store(dst)
	if err != nil {
		return 0, err
	}
	if _, err := from.Mailbox(ctx, guid); err != nil {
		return 0, fmt.Errorf("source %s: mailbox %s: %w", src, guid, err)
	}
	_, err = to.Mailbox(ctx, guid)
	if err == nil {
		return 0, refused("database %s already holds a mailbox %s", dst, guid)
	}
	if !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("target %s: %w", dst, err)
	}
	seq, err := from.ChangeSeq(ctx, guid)
	if err != nil {
		return 0, fmt.Errorf("source %s: change number: %w", src, err)
	}
	return seq, nil
}
