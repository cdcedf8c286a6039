package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	confirm := fs.Bool("confirm-deletes", false,
		"delete even past the threshold share of synced users")
	timeout := fs.Duration("timeout", time.Minute, "bound on the read and the push (at most 1h)")
	var src dirsync.LDAPSource
	ldapFlags(fs, &src)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	src.Password = os.Getenv(ldapPasswordEnv)
	if msg := ldapUsage(fs, src); msg != "" {
		fmt.Fprintln(stderr, "hybridgraph sync: "+msg)
		return errUsage
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "hybridgraph sync: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	case *timeout <= 0 || *timeout > maxSyncTimeout:
		fmt.Fprintf(stderr, "hybridgraph sync: --timeout %v: want above 0 and at most %v\n",
			*timeout, maxSyncTimeout)
		return errUsage
	}

	l := deploy.Layout{Dir: *data}
	d, err := l.Load()
	if err != nil {
		return err
	}
	client, err := syncClient(l, d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var source dirsync.Source = &src
	if src.URL == "" {
		prem, err := directory.Open(l.Directory(directory.OnPrem), directory.OnPrem)
		if err != nil {
			return err
		}
		defer prem.Close()
		source = dirsync.DirectorySource{Directory: prem}
	}
	src.StatePath = filepath.Join(l.Side(directory.OnPrem), dirsync.LDAPStateFile)
	sum, err := dirsync.Sync(ctx, source, client, *confirm)
	if err != nil {
		return err
	}
	printSyncSummary(stdout, sum)
	if source == &src {
		printReadStats(stdout, src.LastRead())
	}
	return nil
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
