package dirsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// DefaultInterval is how often the on-prem server's sync loop runs: the
// 30-minute cycle of directory-sync tools' scheduler, which the readiness
// check's stale-sync limit (three hours) counts in missed runs.
const DefaultInterval = 30 * time.Minute

// MinInterval is the shortest interval the commands accept for the loop:
// a run reads the whole source at least at start, and runs closer than a
// minute apart would keep the directory and the cloud's intake busy for
// changes that an admin can push at once with the sync command.
const MinInterval = time.Minute

// DefaultRunTimeout bounds one run (read and push) when Loop.Timeout is
// not set. It is independent of the interval: a short interval must not
// cut a run short, and a long one must not let a hung run block the next.
const DefaultRunTimeout = 2 * time.Minute

// Source reads the on-prem directory into a batch. DirectorySource and
// LDAPSource are the two sources.
type Source interface {
	Read(ctx context.Context) (directory.Batch, error)
}

// DirectorySource reads the built-in on-prem directory (FromDirectory).
type DirectorySource struct{ Directory *directory.Directory }

// Read returns the built-in directory's mailbox users as a full batch.
func (s DirectorySource) Read(ctx context.Context) (directory.Batch, error) {
	return FromDirectory(ctx, s.Directory)
}

// Loop is the on-prem server's sync agent: it pushes its Source to the
// cloud once at start and then every Interval until stopped. A run never
// confirms deletions held back by the cloud's threshold: an admin does
// that once with `hybridgraph sync --confirm-deletes`, so that a broken
// source cannot empty the cloud directory unattended. A failed run changes
// nothing in the cloud (directory.Apply is one transaction); it is logged
// and the next tick tries again.
type Loop struct {
	Source   Source
	Client   *Client
	Interval time.Duration // 0 means DefaultInterval
	// Timeout bounds one run (read and push); 0 means DefaultRunTimeout.
	Timeout time.Duration
	// Log receives one line per run, with component=AgentComponent.
	Log *slog.Logger
	// Ran, when set, is called after each run with its outcome.
	Ran func(directory.Summary, error)
}

// Run syncs at once and then every Interval until ctx ends. ready, when
// not nil, is closed after the first run, whatever its outcome, so that a
// server can announce itself once the cloud knows its users.
func (l *Loop) Run(ctx context.Context, ready chan<- struct{}) {
	interval := l.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	l.runOnce(ctx, interval)
	if ready != nil {
		close(ready)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.runOnce(ctx, interval)
		}
	}
}

// runOnce reads, pushes and logs one run.
func (l *Loop) runOnce(ctx context.Context, interval time.Duration) {
	timeout := l.Timeout
	if timeout <= 0 {
		timeout = DefaultRunTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sum, err := l.Once(rctx)
	if l.Ran != nil {
		l.Ran(sum, err)
	}
	log := l.Log.With("component", AgentComponent)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		// Stopped mid-run: shutdown, not a failure worth an error line.
		log.Info("directory sync stopped", "err", err)
	case err != nil:
		log.Error("directory sync failed; retrying at the next run", "err", err,
			"next", interval)
	default:
		l.logSummary(log, sum)
	}
}

// Once reads the source and pushes it without confirming deletions.
func (l *Loop) Once(ctx context.Context) (directory.Summary, error) {
	return Sync(ctx, l.Source, l.Client, false)
}

// Committer is a Source that keeps state between reads (an incremental
// read's cursor): Commit is told the cloud's summary of the batch the last
// Read returned, once the cloud has applied it.
type Committer interface {
	Commit(directory.Summary) error
}

// Sync runs one sync: it reads src, pushes the batch to the cloud through
// c, and commits src's read state when src keeps one. The one-shot
// command and the loop both run it.
func Sync(ctx context.Context, src Source, c *Client, confirmDeletes bool) (
	directory.Summary, error) {
	b, err := src.Read(ctx)
	if err != nil {
		return directory.Summary{}, fmt.Errorf("read on-prem directory: %w", err)
	}
	sum, err := c.Push(ctx, b, confirmDeletes)
	if err != nil {
		return directory.Summary{}, err
	}
	if cm, ok := src.(Committer); ok {
		if err := cm.Commit(sum); err != nil {
			return sum, fmt.Errorf("keep the directory read state: %w", err)
		}
	}
	return sum, nil
}

// logSummary logs a run in one line, with how the source was read when
// it says, and then one line per user the cloud left alone.
func (l *Loop) logSummary(log *slog.Logger, s directory.Summary) {
	level := slog.LevelInfo
	if s.Held > 0 || s.Failed > 0 {
		level = slog.LevelWarn
	}
	attrs := []any{"added", s.Added, "updated", s.Updated, "deleted", s.Deleted,
		"held", s.Held, "failed", s.Failed}
	if ls, ok := l.Source.(*LDAPSource); ok {
		st := ls.LastRead()
		attrs = append(attrs, "mode", st.Mode, "full", st.Full, "entries", st.Entries)
		if st.Fallback != "" {
			attrs = append(attrs, "fallback", st.Fallback)
		}
	}
	log.Log(context.Background(), level, "directory sync", attrs...)
	for _, p := range s.Problems {
		log.Warn("directory sync left a user alone", "user", p.Name(),
			"immutableId", p.ImmutableID, "reason", p.Reason)
	}
}
