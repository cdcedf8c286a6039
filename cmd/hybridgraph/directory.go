package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

const directoryUsage = `usage:
  hybridgraph directory [--data DIR] list
  hybridgraph directory [--data DIR] add --upn UPN --name "DISPLAY NAME"
                                         [--mail ADDRESS] [--database NAME]
  hybridgraph directory [--data DIR] remove UPN

Edits the data directory's built-in on-prem directory, as an admin edits
Active Directory; the cloud follows at the next directory sync ('hybridgraph
sync', or the demo's sync loop). 'add' creates an on-prem mailbox; 'remove'
deletes the directory entry and keeps the mailbox's data in its database.
`

// runDirectory lists, adds and removes users of the built-in on-prem
// directory, so that an admin can exercise adds and deletes through sync.
func runDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("directory", flag.ContinueOnError)
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	fs.Usage = func() {
		fmt.Fprint(stderr, directoryUsage)
		fs.PrintDefaults()
	}
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	sub, rest := fs.Arg(0), fs.Args()[1:]
	subcommand := map[string]func(context.Context, string, []string, io.Writer,
		io.Writer) error{
		"list": directoryList, "add": directoryAdd, "remove": directoryRemove,
	}[sub]
	if subcommand == nil {
		fmt.Fprintf(stderr, "hybridgraph directory: unknown subcommand %q: "+
			"want list, add or remove\n", sub)
		return errUsage
	}
	return subcommand(ctx, *data, rest, stdout, stderr)
}

// subFlags is the flag set of one subcommand; it takes --data too, so
// that `directory add --data DIR ...` works as the other commands do.
func subFlags(name string, data *string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("directory "+name, flag.ContinueOnError)
	fs.StringVar(data, "data", *data, "data `directory` of the deployment")
	fs.Usage = func() {
		fmt.Fprint(stderr, directoryUsage)
		fs.PrintDefaults()
	}
	return fs
}

// noArgs refuses positional arguments a subcommand does not take.
func noArgs(fs *flag.FlagSet, stderr io.Writer) error {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hybridgraph %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

func directoryList(ctx context.Context, data string, args []string, stdout,
	stderr io.Writer) error {
	fs := subFlags("list", &data, stderr)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if err := noArgs(fs, stderr); err != nil {
		return err
	}
	prem, err := openOnPremDirectory(deploy.Layout{Dir: data})
	if err != nil {
		return err
	}
	defer prem.Close()
	users, err := prem.All(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "USER PRINCIPAL NAME\tDISPLAY NAME\tRECIPIENT TYPE\tDATABASE\tMAILBOX GUID")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.UPN, u.DisplayName, u.RecipientType,
			dash(u.Database), dash(u.MailboxGUID))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// openOnPremDirectory opens the on-prem directory of an existing
// deployment (never creating one in a mistyped folder).
func openOnPremDirectory(l deploy.Layout) (*directory.Directory, error) {
	if _, err := l.Load(); err != nil {
		return nil, err
	}
	return directory.Open(l.Directory(directory.OnPrem), directory.OnPrem)
}

type addFlags struct{ upn, name, mail, database string }

func directoryAdd(ctx context.Context, data string, args []string, stdout,
	stderr io.Writer) error {
	fs := subFlags("add", &data, stderr)
	var f addFlags
	fs.StringVar(&f.upn, "upn", "", "user principal name, e.g. erin@contoso.test (required)")
	fs.StringVar(&f.name, "name", "", "display name (required)")
	fs.StringVar(&f.mail, "mail", "", "primary SMTP `address` (default: the UPN)")
	fs.StringVar(&f.database, "database", "",
		"mailbox `database`: an on-prem one (default: the first), or a cloud one for a "+
			"cloud mailbox mastered on premises (a RemoteUserMailbox)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if err := noArgs(fs, stderr); err != nil {
		return err
	}
	l := deploy.Layout{Dir: data}
	d, err := l.Load()
	if err != nil {
		return err
	}
	if err := f.validate(d); err != nil {
		fmt.Fprintf(stderr, "hybridgraph directory add: %v\n", err)
		return errUsage
	}
	u := directory.User{ObjectID: uuid.NewString(), UPN: f.upn, Mail: f.mail,
		DisplayName: f.name, Premises: directory.OnPrem,
		RecipientType: directory.UserMailbox, Database: f.database,
		MailboxGUID: uuid.NewString()}
	if slices.Contains(d.CloudDatabases, f.database) {
		err = addRemoteMailboxUser(ctx, l, d, u)
	} else {
		err = addMailboxUser(ctx, l, d, u)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s: mailbox %s in %s; the cloud learns of it at the next "+
		"directory sync\n", u.UPN, u.MailboxGUID, u.Database)
	return nil
}

// validate fills the defaults and checks the flags against the deployment:
// addresses in its domain (the domain its connector routes), a database it
// has.
func (f *addFlags) validate(d *deploy.Deployment) error {
	if f.mail == "" {
		f.mail = f.upn
	}
	if f.database == "" && len(d.OnPremDatabases) > 0 {
		f.database = d.OnPremDatabases[0]
	}
	switch {
	case f.upn == "":
		return errors.New("--upn is required")
	case strings.TrimSpace(f.name) == "":
		return errors.New("--name is required")
	case !slices.Contains(d.OnPremDatabases, f.database) &&
		!slices.Contains(d.CloudDatabases, f.database):
		return fmt.Errorf("--database %q: want one of %s", f.database,
			strings.Join(slices.Concat(d.OnPremDatabases, d.CloudDatabases), ", "))
	}
	for _, a := range []struct{ flag, addr string }{{"--upn", f.upn}, {"--mail", f.mail}} {
		if err := inDomain(a.addr, d.Domain); err != nil {
			return fmt.Errorf("%s %q: %w", a.flag, a.addr, err)
		}
	}
	return nil
}

// inDomain checks that addr is a bare address (RFC 5322 addr-spec) in
// domain.
func inDomain(addr, domain string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr || a.Name != "" {
		return errors.New("want an address such as user@" + domain)
	}
	_, host, _ := strings.Cut(addr, "@")
	if !strings.EqualFold(host, domain) {
		return fmt.Errorf("want an address in the organisation's domain %s", domain)
	}
	return nil
}

// addMailboxUser adds u to the on-prem directory and creates its mailbox,
// taking the entry back if the mailbox cannot be made.
func addMailboxUser(ctx context.Context, l deploy.Layout, d *deploy.Deployment,
	u directory.User) error {
	prem, err := l.Open(directory.OnPrem, d.OnPremDatabases)
	if err != nil {
		return err
	}
	defer prem.Close()
	if err := prem.Directory.Add(ctx, u); err != nil {
		return err
	}
	if err := prem.Engine.EnsureMailbox(ctx, u.Ref(), u.DisplayName); err != nil {
		if _, rmErr := prem.Directory.Remove(ctx, u.ObjectID); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("take back the directory entry: %w", rmErr))
		}
		return fmt.Errorf("create mailbox %s: %w", u.UPN, err)
	}
	return nil
}

// addRemoteMailboxUser adds u as Exchange's New-RemoteMailbox does: an
// on-prem RemoteUserMailbox aimed at the cloud's coexistence address, and
// its mailbox in the cloud database u.Database, which the cloud entry that
// the next directory sync creates leads to.
func addRemoteMailboxUser(ctx context.Context, l deploy.Layout, d *deploy.Deployment,
	u directory.User) error {
	cloud, err := l.Open(directory.Cloud, d.CloudDatabases)
	if err != nil {
		return err
	}
	defer cloud.Close()
	if err := cloud.Engine.EnsureMailbox(ctx, u.Ref(), u.DisplayName); err != nil {
		return fmt.Errorf("create mailbox %s: %w", u.UPN, err)
	}
	prem, err := openOnPremDirectory(l)
	if err != nil {
		return err
	}
	defer prem.Close()
	local, _, _ := strings.Cut(u.Mail, "@")
	u.RecipientType, u.Database = directory.RemoteUserMailbox, ""
	u.TargetAddress = local + "@" + deploy.CoexistenceDomain(d.Domain)
	return prem.Add(ctx, u)
}

func directoryRemove(ctx context.Context, data string, args []string, stdout,
	stderr io.Writer) error {
	fs := subFlags("remove", &data, stderr)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "hybridgraph directory remove: name exactly one user (UPN)")
		return errUsage
	}
	prem, err := openOnPremDirectory(deploy.Layout{Dir: data})
	if err != nil {
		return err
	}
	defer prem.Close()
	u, err := prem.Remove(ctx, fs.Arg(0))
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("no user %q in the on-prem directory of %s", fs.Arg(0), data)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %s from the on-prem directory", u.UPN)
	if u.Database != "" {
		fmt.Fprintf(stdout, "; its mailbox data stays in %s", u.Database)
	}
	fmt.Fprintf(stdout, ".\nThe cloud entry goes at the next directory sync; a run that "+
		"deletes more than %g%% of the synced users is held until 'hybridgraph sync "+
		"--confirm-deletes'.\n", directory.DefaultDeleteThreshold*100)
	return nil
}
