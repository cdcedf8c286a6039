package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

// ldapPasswordEnv holds the LDAP service account's password: a flag would
// show it in the process list.
const ldapPasswordEnv = "HYBRIDGRAPH_LDAP_PASSWORD"

// maxSyncTimeout bounds --timeout: a push that takes longer has failed.
const maxSyncTimeout = time.Hour

// syncUsage heads sync's -h text.
const syncUsage = `usage: hybridgraph sync [flags]

Pushes the on-prem directory (the data directory's, or an LDAP server's) to
the cloud once and prints the run's summary.

Exit status: 0 everything applied, 1 deletions held (past the threshold, until
--confirm-deletes), 2 entries that failed or collided (each named; the rest
applied; deletions may be held too), 3 the run could not be made and changed nothing (cloud unreachable,
unreadable source), 64 a usage error (unknown flag, bad value).

Flags:
`

// The exit statuses of sync, in the manner of check's: the worst of what the
// run left for an admin, and apart from them a run that did not happen.
const (
	syncExitHeld   = 1
	syncExitFailed = 2
	syncExitError  = 3
	syncExitUsage  = 64
)

// runSync runs sync and turns its outcome into its exit status.
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sum, err := syncOnce(ctx, args, stdout, stderr)
	var status exitStatus
	switch {
	case errors.Is(err, flag.ErrHelp), errors.As(err, &status):
		return err
	case errors.Is(err, errUsage):
		return exitStatus(syncExitUsage)
	case err != nil:
		fmt.Fprintf(stderr, "hybridgraph sync: %v\n", err)
		return exitStatus(syncExitError)
	case sum.Failed > 0:
		return exitStatus(syncExitFailed)
	case sum.Held > 0:
		return exitStatus(syncExitHeld)
	}
	return nil
}

func syncOnce(ctx context.Context, args []string, stdout, stderr io.Writer) (
	directory.Summary, error) {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(stderr, syncUsage)
		fs.PrintDefaults()
	}
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	confirm := fs.Bool("confirm-deletes", false,
		"delete even past the threshold share of synced users")
	timeout := fs.Duration("timeout", time.Minute, "bound on the read and the push (at most 1h)")
	threshold := thresholdFlag(fs)
	var src dirsync.LDAPSource
	ldapFlags(fs, &src)
	if err := parse(fs, args, stderr); err != nil {
		return directory.Summary{}, err
	}
	src.Password = os.Getenv(ldapPasswordEnv)
	if msg := ldapUsage(fs, src); msg != "" {
		fmt.Fprintln(stderr, "hybridgraph sync: "+msg)
		return directory.Summary{}, errUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hybridgraph sync: unexpected argument %q\n", fs.Arg(0))
		return directory.Summary{}, errUsage
	case *timeout <= 0 || *timeout > maxSyncTimeout:
		fmt.Fprintf(stderr, "hybridgraph sync: --timeout %v: want above 0 and at most %v\n",
			*timeout, maxSyncTimeout)
		return directory.Summary{}, errUsage
	}

	l := deploy.Layout{Dir: *data}
	d, err := l.Load()
	if err != nil {
		return directory.Summary{}, err
	}
	client, err := syncClient(l, d)
	if err != nil {
		return directory.Summary{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var source dirsync.Source = &src
	if src.URL == "" {
		prem, err := directory.Open(l.Directory(directory.OnPrem), directory.OnPrem)
		if err != nil {
			return directory.Summary{}, err
		}
		defer prem.Close()
		source = dirsync.DirectorySource{Directory: prem}
	}
	src.StatePath = filepath.Join(l.Side(directory.OnPrem), dirsync.LDAPStateFile)
	client.DeleteThreshold = threshold.share
	sum, err := dirsync.Sync(ctx, source, client, *confirm)
	if err != nil {
		return directory.Summary{}, err
	}
	printSyncSummary(stdout, sum)
	if source == &src {
		printReadStats(stdout, src.LastRead())
	}
	return sum, nil
}

// printReadStats says how an LDAP read went, so that an admin sees whether
// runs are incremental and, when not, why.
func printReadStats(w io.Writer, st dirsync.ReadStats) {
	kind := "incremental"
	if st.Full {
		kind = "full compare"
	}
	fmt.Fprintf(w, "read by %s (%s): %d entries, %d deletes, %d present\n", st.Mode, kind,
		st.Entries, st.Deletes, st.Present)
	if st.Fallback != "" {
		fmt.Fprintf(w, "  full compare because %s\n", st.Fallback)
	}
}

// ldapFlags declares the flags that name an LDAP source, shared by sync
// and the demo's sync loop.
func ldapFlags(fs *flag.FlagSet, src *dirsync.LDAPSource) {
	fs.StringVar(&src.URL, "ldap", "",
		"read the on-prem directory from this LDAP `URL` instead of the data directory")
	fs.StringVar(&src.BindDN, "ldap-bind", "", "service account `DN` to bind as "+
		"(password in $"+ldapPasswordEnv+")")
	fs.StringVar(&src.BaseDN, "ldap-base", "", "base `DN` of the search")
}

// threshold is the --delete-threshold flag: a percentage of the synced
// users, kept as a share.
type threshold struct{ share float64 }

func (t *threshold) String() string {
	if t.share == 0 {
		return strconv.FormatFloat(directory.DefaultDeleteThreshold*100, 'f', -1, 64)
	}
	return strconv.FormatFloat(t.share*100, 'f', -1, 64)
}

func (t *threshold) Set(s string) error {
	v, err := dirsync.ParseThreshold(s)
	t.share = v
	return err
}

// thresholdFlag declares --delete-threshold, shared by sync and the demo's
// sync loop.
func thresholdFlag(fs *flag.FlagSet) *threshold {
	t := &threshold{}
	fs.Var(t, "delete-threshold", "hold a run's deletions when they exceed this `percent` "+
		"of the synced users (above 0, at most 100; default "+t.String()+")")
	return t
}

// ldapUsage says what is wrong with the LDAP flags and the password, or
// "" when nothing is: LDAP flags without --ldap would silently sync the
// built-in directory instead, and a bind without a DN or password would
// fail at the server with a message that names neither.
func ldapUsage(fs *flag.FlagSet, src dirsync.LDAPSource) string {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case src.URL == "" && (set["ldap-bind"] || set["ldap-base"]):
		return "--ldap-bind and --ldap-base need --ldap URL (without --ldap, sync reads " +
			"the built-in on-prem directory)"
	case src.URL == "":
		return ""
	case !ldapURL(src.URL):
		return fmt.Sprintf("--ldap %q: want an ldap:// or ldaps:// URL with a host, "+
			"such as ldaps://dc1.contoso.test", src.URL)
	case src.BaseDN == "":
		return "--ldap needs --ldap-base, the base DN of the search"
	case src.BindDN == "":
		return "--ldap needs --ldap-bind, the DN of the service account"
	case src.Password == "":
		return "--ldap needs the service account's password in $" + ldapPasswordEnv +
			", which is empty"
	}
	return ""
}

func ldapURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "ldap" || u.Scheme == "ldaps") && u.Host != "" &&
		(u.Path == "" || u.Path == "/")
}

// syncClient is the sync agent's client for the data directory's cloud.
func syncClient(l deploy.Layout, d *deploy.Deployment) (*dirsync.Client, error) {
	key, err := auth.LoadOrCreateKey(l.KeyDir())
	if err != nil {
		return nil, err
	}
	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	app, err := dirsync.Agent(l.KeyDir())
	if err != nil {
		return nil, err
	}
	return &dirsync.Client{BaseURL: d.CloudURL, HTTP: &http.Client{},
		Token: dirsync.AgentToken(iss, app)}, nil
}

func printSyncSummary(w io.Writer, s directory.Summary) {
	fmt.Fprintf(w, "synced at %s: added %d, updated %d, deleted %d, held %d, failed %d\n",
		s.SyncedAt.Format(time.RFC3339), s.Added, s.Updated, s.Deleted, s.Held, s.Failed)
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  %s (%s): %s\n", p.Name(), p.ImmutableID, p.Reason)
	}
}
