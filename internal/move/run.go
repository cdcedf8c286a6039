package move

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// run is one job being carried forward.
type run struct {
	m        *Mover
	job      directory.MoveJob
	src, dst store.Store
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
	if err := r.src.SetMailboxLocked(ctx, r.job.MailboxGUID, true); err != nil {
		return fmt.Errorf("lock source: %w", err)
	}
	err := r.save(ctx, Locked)
	if errors.Is(err, directory.ErrMoveChanged) && r.rolledBack(ctx) {
		// A rollback took the job while this lock was being taken, and
		// may have unlocked before it: the source must not stay locked.
		if uerr := r.src.SetMailboxLocked(ctx, r.job.MailboxGUID, false); uerr != nil {
			return errors.Join(err, fmt.Errorf("unlock source: %w", uerr))
		}
	}
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
	if err := r.src.SetMailboxLocked(ctx, j.MailboxGUID, false); err != nil {
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
