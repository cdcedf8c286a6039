package move

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// run is one job being carried forward.
type run struct {
	m        *Mover
	job      directory.MoveJob
	src, dst store.Store
	// renewing is set while the source's lock is this run's to renew:
	// from the lock to the switch.
	renewing atomic.Bool
}

// step does the work after a phase and saves the next one.
type step func(r *run, ctx context.Context) error

// steps maps each phase to the step that follows it. Every step is
// idempotent: a job stopped anywhere inside one does it again on resume.
var steps = map[string]step{
	Created:   (*run).prepare,
	Prepared:  (*run).copyItems,
	Copying:   (*run).copyItems,
	Copied:    (*run).catchUpOnline,
	CaughtUp:  (*run).lock,
	Locked:    (*run).finalCatchUp,
	Synced:    (*run).switchEntries,
	Switching: (*run).switchEntries,
	Switched:  (*run).removeSource,
}

// run carries j forward from its recorded phase to Done.
func (m *Mover) run(ctx context.Context, j directory.MoveJob) (directory.MoveJob, error) {
	r := &run{m: m, job: j}
	var err error
	if r.src, err = m.store(j.Source); err == nil {
		r.dst, err = m.store(j.Target)
	}
	stopRenew := r.renewLock(ctx)
	defer stopRenew()
	for err == nil && r.job.Phase != Done {
		s, ok := steps[r.job.Phase]
		if !ok {
			err = fmt.Errorf("job %s: unknown phase %q", j.ID, r.job.Phase)
			break
		}
		err = s(r, ctx)
	}
	if err != nil {
		r.fail(ctx, err)
		if errors.Is(err, directory.ErrMoveChanged) && r.src != nil && r.rolledBack(ctx) {
			// A rollback took the job from this run, which may have locked
			// the source again since: the source must not stay locked.
			r.renewing.Store(false)
			if uerr := r.src.LockMailbox(ctx, j.MailboxGUID, 0); uerr != nil {
				err = errors.Join(err, fmt.Errorf("unlock source: %w", uerr))
			}
		}
		return r.job, fmt.Errorf("move of %s at phase %s: %w", j.UPN, r.job.Phase, err)
	}
	m.log().Info("move done", "user", j.UPN, "to", j.Target.String(), "items", r.job.Copied)
	return r.job, nil
}

// save records the job at phase and gives the checkpoint its turn. It
// fails with directory.ErrMoveChanged when another process saved the job
// since this one did: that one carries it on.
func (r *run) save(ctx context.Context, phase string) error {
	read := r.job.Updated
	r.job.Phase, r.job.Updated, r.job.LastError = phase, r.m.now(), ""
	if !r.job.Updated.After(read) {
		r.job.Updated = read.Add(time.Microsecond) // a clock that stood still
	}
	if err := r.m.Cloud.Directory.SaveMove(ctx, r.job, read); err != nil {
		return err
	}
	if r.m.Checkpoint != nil {
		return r.m.Checkpoint(ctx, r.job)
	}
	return nil
}

// fail records err on the job, even when ctx has ended: the operator
// reads it before choosing to resume or roll back.
func (r *run) fail(ctx context.Context, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if errors.Is(err, directory.ErrMoveChanged) {
		return // the job is another process's now: leave its record alone
	}
	read := r.job.Updated
	r.job.LastError, r.job.Updated = err.Error(), r.m.now()
	if serr := r.m.Cloud.Directory.SaveMove(ctx, r.job, read); serr != nil {
		r.m.log().Error("move: record failure", "job", r.job.ID, "err", serr)
	}
}

// prepare creates the mailbox and its folders in the target.
func (r *run) prepare(ctx context.Context) error {
	src, err := r.src.Mailbox(ctx, r.job.MailboxGUID)
	if err != nil {
		return fmt.Errorf("source mailbox: %w", err)
	}
	err = r.dst.CreateMailbox(ctx, src)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("create target mailbox: %w", err)
	}
	if err := r.syncFolders(ctx); err != nil {
		return err
	}
	return r.save(ctx, Prepared)
}

// lock makes the source refuse writes; the store waits for writes in
// progress, so every change is in the log the final catch-up reads.
func (r *run) lock(ctx context.Context) error {
	if err := r.src.LockMailbox(ctx, r.job.MailboxGUID, r.m.lease()); err != nil {
		return fmt.Errorf("lock source: %w", err)
	}
	r.renewing.Store(true)
	err := r.save(ctx, Locked)
	if errors.Is(err, directory.ErrMoveChanged) && r.rolledBack(ctx) {
		// A rollback took the job while this lock was being taken, and
		// may have unlocked before it: the source must not stay locked.
		r.renewing.Store(false)
		if uerr := r.src.LockMailbox(ctx, r.job.MailboxGUID, 0); uerr != nil {
			return errors.Join(err, fmt.Errorf("unlock source: %w", uerr))
		}
	}
	return err
}

// renewLock renews the source's lock in the background while renewing is
// set, every third of its lease, until the returned stop is called. A
// renewal that finds the lock lapsed leaves it: holdLock, before the
// steps that need it, takes it again and catches up.
func (r *run) renewLock(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.m.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if !r.renewing.Load() {
				continue
			}
			held, err := r.src.RenewMailboxLock(ctx, r.job.MailboxGUID, r.m.lease())
			if err == nil && !held {
				r.m.log().Warn("move: the source's lock had lapsed", "user", r.job.UPN)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// holdLock makes sure the source's lock holds before a step that needs
// it (the final catch-up, each switch). A lock that lapsed (the move was
// stopped longer than its lease, and clients may have written since) is
// taken again and what changed meanwhile is replayed.
func (r *run) holdLock(ctx context.Context) error {
	r.renewing.Store(true)
	held, err := r.src.RenewMailboxLock(ctx, r.job.MailboxGUID, r.m.lease())
	if err != nil || held {
		return err
	}
	if err := r.src.LockMailbox(ctx, r.job.MailboxGUID, r.m.lease()); err != nil {
		return fmt.Errorf("lock source again: %w", err)
	}
	if err := r.syncFolders(ctx); err != nil {
		return err
	}
	_, err = r.catchUp(ctx)
	return err
}

// rolledBack reports whether the job is being or has been rolled back by
// another process.
func (r *run) rolledBack(ctx context.Context) bool {
	jobs, err := r.m.Cloud.Directory.Moves(ctx, r.job.UserID)
	if err != nil {
		return false
	}
	for _, j := range jobs {
		if j.ID == r.job.ID {
			return j.Phase == RollingBack || j.Phase == RolledBack
		}
	}
	return false
}

// finalCatchUp replays what changed up to the lock and checks that both
// copies hold as many items.
func (r *run) finalCatchUp(ctx context.Context) error {
	if err := r.holdLock(ctx); err != nil {
		return err
	}
	if err := r.syncFolders(ctx); err != nil {
		return err
	}
	if _, err := r.catchUp(ctx); err != nil {
		return err
	}
	q := store.Query{MailboxID: r.job.MailboxGUID}
	from, err := r.src.CountItems(ctx, q)
	if err != nil {
		return fmt.Errorf("count source items: %w", err)
	}
	to, err := r.dst.CountItems(ctx, q)
	if err != nil {
		return fmt.Errorf("count target items: %w", err)
	}
	if from != to {
		return fmt.Errorf("after the final catch-up the target holds %d items, "+
			"the source %d: not switching", to, from)
	}
	return r.save(ctx, Synced)
}

// removeSource deletes the source copy once the grace period after the
// switch has passed.
func (r *run) removeSource(ctx context.Context) error {
	if wait := r.job.Switched.Add(r.m.grace()).Sub(r.m.now()); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	err := r.src.DeleteMailbox(ctx, r.job.MailboxGUID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete source copy: %w", err)
	}
	r.job.Finished = r.m.now()
	return r.save(ctx, Done)
}

// Rollback ends user's unfinished move before its switch: the source is
// unlocked and the target copy deleted. After the switch has started the
// directory may already send clients to the target, so it is refused: move
// the mailbox back instead.
func (m *Mover) Rollback(ctx context.Context, user string) (directory.MoveJob, error) {
	j, err := m.takeOver(ctx, user)
	if err != nil {
		return j, err
	}
	if j.Phase != RollingBack && reached(j.Phase, Switching) {
		return j, refused("the move of %s to %s has reached phase %s: the directory "+
			"switch has started, so it cannot be rolled back; resume it, then move the "+
			"mailbox back to %s", j.UPN, j.Target, j.Phase, j.Source.Database)
	}
	r := &run{m: m, job: j}
	if r.src, err = m.store(j.Source); err == nil {
		r.dst, err = m.store(j.Target)
	}
	if err != nil {
		return j, err
	}
	// Claim the job first: a process still carrying it forward fails its
	// next save and stops before the switch.
	if err := r.save(ctx, RollingBack); err != nil {
		return r.job, err
	}
	if err := r.src.LockMailbox(ctx, j.MailboxGUID, 0); err != nil {
		r.fail(ctx, err)
		return r.job, fmt.Errorf("unlock source: %w", err)
	}
	err = r.dst.DeleteMailbox(ctx, j.MailboxGUID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		r.fail(ctx, err)
		return r.job, fmt.Errorf("delete target copy: %w", err)
	}
	r.job.Finished = m.now()
	if err := r.save(ctx, RolledBack); err != nil {
		return r.job, err
	}
	m.log().Info("move rolled back", "user", j.UPN, "job", j.ID)
	return r.job, nil
}
