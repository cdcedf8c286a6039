package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/importer"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
)

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	configPath := fs.String("config", "", "serve's configuration `file`, for a mailbox in one "+
		"of the databases it lists (PostgreSQL ones too), instead of --data")
	user := fs.String("user", "", "user principal name of the target mailbox (required)")
	folder := fs.String("folder", "inbox", "target folder: a well-known name or a folder id")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hybridgraph import (--data DIR | --config FILE) --user UPN "+
			"[--folder NAME] PATH...")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *user == "" || fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["data"] && set["config"] {
		fmt.Fprintln(stderr, "hybridgraph import: give --data or --config, not both")
		return errUsage
	}

	l, d, cloudNames, err := deploymentOf(ctx, *data, *configPath)
	if err != nil {
		return err
	}
	side, u, err := homeOf(ctx, l, d, cloudNames, *user)
	if err != nil {
		return err
	}
	defer side.Close()
	ref := u.Ref()
	if _, err := side.Engine.Folder(ctx, ref, *folder); err != nil {
		if errors.Is(err, mailbox.ErrDatabaseNotOpen) && *configPath == "" {
			return fmt.Errorf("%s's mailbox is in %s, which the data directory does not "+
				"hold: import with --config FILE, serve's configuration that lists it",
				u.UPN, u.Database)
		}
		return fmt.Errorf("folder %q of %s: %w", *folder, u.UPN, err)
	}

	dest := func(ctx context.Context, raw []byte) error {
		_, err := side.Engine.Import(ctx, ref, *folder, raw)
		return err
	}
	progress := io.Writer(stderr)
	sum, err := importer.Run(ctx, dest, fs.Args(), progress)
	printSummary(stdout, u.UPN, sum)
	return err
}

// homeOf opens the premises that holds user's mailbox. The cloud directory
// knows every user; an on-prem mailbox's database is in the on-prem one.
func homeOf(ctx context.Context, l deploy.Layout, d *deploy.Deployment, cloudNames []string,
	user string) (*deploy.Premises, directory.User, error) {
	cloud, err := l.Open(directory.Cloud, cloudNames)
	if err != nil {
		return nil, directory.User{}, err
	}
	u, err := cloud.Directory.Lookup(ctx, user)
	if errors.Is(err, directory.ErrNotFound) {
		cloud.Close()
		return nil, directory.User{}, fmt.Errorf("no user %q in the directory of %s", user, l.Dir)
	}
	if err != nil || u.Premises == directory.Cloud {
		if err != nil {
			cloud.Close()
		}
		return cloud, u, err
	}
	cloud.Close()

	prem, err := l.Open(directory.OnPrem, d.OnPremDatabases)
	if err != nil {
		return nil, directory.User{}, err
	}
	u, err = prem.Directory.Lookup(ctx, user)
	if err != nil {
		prem.Close()
		return nil, directory.User{}, fmt.Errorf("on-prem directory: %w", err)
	}
	return prem, u, nil
}

func printSummary(w io.Writer, upn string, s importer.Summary) {
	fmt.Fprintf(w, "%s: imported %d, skipped %d\n", upn, s.Imported, s.Skipped)
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "  skipped %s\n", r)
	}
}
