package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/move"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

const moveUsage = "usage: hybridgraph move-mailbox (--data DIR | --config FILE) --user UPN " +
	"--to DATABASE [--resume | --rollback] [--batch N] [--grace D]"

type moveFlags struct {
	data, config, user, to string
	resume, rollback       bool
	batch                  int
	grace                  time.Duration
}

// runMoveMailbox moves a mailbox to another database online (package
// move), or resumes or rolls back a move that stopped.
func runMoveMailbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("move-mailbox", flag.ContinueOnError)
	var f moveFlags
	fs.StringVar(&f.data, "data", DefaultData, "data `directory` of the deployment")
	fs.StringVar(&f.config, "config", "", "serve's configuration `file`, for its "+
		"databases (PostgreSQL ones too); instead of --data")
	fs.StringVar(&f.user, "user", "", "user principal name of the mailbox (required)")
	fs.StringVar(&f.to, "to", "", "target mailbox `database` (required for a new move)")
	fs.BoolVar(&f.resume, "resume", false, "finish the user's unfinished move")
	fs.BoolVar(&f.rollback, "rollback", false, "undo the user's unfinished move "+
		"(before its switch)")
	fs.IntVar(&f.batch, "batch", move.DefaultBatch, "items copied per transaction")
	fs.DurationVar(&f.grace, "grace", move.DefaultGrace, "wait after the switch before "+
		"the source copy is deleted")
	fs.Usage = func() {
		fmt.Fprintln(stderr, moveUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if err := f.validate(fs); err != nil {
		fmt.Fprintf(stderr, "hybridgraph move-mailbox: %v\n%s\n", err, moveUsage)
		return errUsage
	}

	m, closeOrg, err := openMover(ctx, f)
	if err != nil {
		return err
	}
	defer closeOrg()
	m.Checkpoint = progress(stdout)
	return f.run(ctx, m, stdout)
}

func (f *moveFlags) validate(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case set["data"] && set["config"]:
		return errors.New("give --data or --config, not both")
	case f.user == "":
		return errors.New("--user is required")
	case f.resume && f.rollback:
		return errors.New("give --resume or --rollback, not both")
	case f.to == "" && !f.resume && !f.rollback:
		return errors.New("--to is required for a new move")
	case f.batch < 1:
		return fmt.Errorf("--batch %d: want at least 1", f.batch)
	case f.grace <= 0:
		return fmt.Errorf("--grace %v: want a positive duration", f.grace)
	}
	return nil
}

func (f *moveFlags) run(ctx context.Context, m *move.Mover, stdout io.Writer) error {
	var (
		j   directory.MoveJob
		err error
	)
	if (f.resume || f.rollback) && f.to != "" {
		if j, err = m.Job(ctx, f.user); err == nil && j.Target.Database != f.to {
			return fmt.Errorf("the unfinished move of %s goes to %s, not %s", j.UPN,
				j.Target.Database, f.to)
		}
	}
	switch {
	case f.rollback:
		j, err = m.Rollback(ctx, f.user)
	case f.resume:
		j, err = m.Resume(ctx, f.user)
	default:
		j, err = m.Start(ctx, f.user, f.to)
	}
	switch {
	case err != nil && j.ID != "" && ctx.Err() != nil:
		return fmt.Errorf("interrupted at phase %s; run again with --resume to finish "+
			"or --rollback to undo (before the switch)", j.Phase)
	case err != nil:
		return err
	case f.rollback:
		fmt.Fprintf(stdout, "rolled back the move of %s to %s: the mailbox stays in %s\n",
			j.UPN, j.Target, j.Source)
	default:
		fmt.Fprintf(stdout, "moved %s from %s to %s: %d items copied\n", j.UPN, j.Source,
			j.Target, j.Copied)
	}
	return nil
}

// progress prints each phase a move reaches, and the copy's batches.
func progress(w io.Writer) func(context.Context, directory.MoveJob) error {
	last := ""
	return func(_ context.Context, j directory.MoveJob) error {
		switch {
		case j.Phase == move.Copying:
			fmt.Fprintf(w, "%s: copying, %d items copied\n", j.UPN, j.Copied)
		case j.Phase != last:
			fmt.Fprintf(w, "%s: %s\n", j.UPN, j.Phase)
		}
		last = j.Phase
		return nil
	}
}

// deploymentOf is the deployment --data or --config names: the data
// directory with its SQLite cloud databases, or serve's configuration with
// the cloud databases it lists (PostgreSQL ones too) over its data
// directory. cloudNames are the cloud databases to open.
func deploymentOf(ctx context.Context, data, configPath string) (l deploy.Layout,
	d *deploy.Deployment, cloudNames []string, err error) {
	l = deploy.Layout{Dir: data}
	if configPath != "" {
		c, err := config.Load(configPath)
		if err != nil {
			return l, nil, nil, err
		}
		l = deploy.Layout{Dir: c.Data.Directory, Stores: gateway.Opener(ctx, c)}
		for _, db := range c.Databases {
			cloudNames = append(cloudNames, db.Name)
		}
	}
	if d, err = l.Load(); err != nil {
		return l, nil, nil, err
	}
	if configPath == "" {
		cloudNames = d.CloudDatabases
	}
	return l, d, cloudNames, nil
}

// openMover opens both premises as --data or --config name them: the
// data directory's SQLite databases, or the configured cloud databases
// (PostgreSQL ones too) with the data directory's on-prem ones.
func openMover(ctx context.Context, f moveFlags) (*move.Mover, func(), error) {
	l, d, cloudNames, err := deploymentOf(ctx, f.data, f.config)
	if err != nil {
		return nil, nil, err
	}
	topo, err := onprem.LoadTopology(l.TopologyFile())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	cloud, err := l.Open(directory.Cloud, cloudNames)
	if err != nil {
		return nil, nil, err
	}
	prem, err := l.Open(directory.OnPrem, d.OnPremDatabases)
	if err != nil {
		cloud.Close()
		return nil, nil, err
	}
	m := &move.Mover{
		Cloud:    move.Side{Directory: cloud.Directory, Stores: cloud.Stores},
		OnPrem:   move.Side{Directory: prem.Directory, Stores: prem.Stores},
		Topology: topo,
		Batch:    f.batch,
		Grace:    f.grace,
		Log:      slog.New(slog.DiscardHandler),
	}
	return m, func() { cloud.Close(); prem.Close() }, nil
}
