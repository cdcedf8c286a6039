package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

// syncAppName names the app registration the sync agent acts as.
const syncAppName = "hybridgraph directory sync"

// syncTokenTTL is the lifetime of the sync agent's token: one push.
const syncTokenTTL = 10 * time.Minute

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	confirm := fs.Bool("confirm-deletes", false,
		"delete even past the threshold share of synced users")
	timeout := fs.Duration("timeout", time.Minute, "bound on the push")
	var src dirsync.LDAPSource
	fs.StringVar(&src.URL, "ldap", "",
		"read the on-prem directory from this LDAP `URL` instead of the data directory")
	fs.StringVar(&src.BindDN, "ldap-bind", "", "service account `DN` to bind as "+
		"(password in $HYBRIDGRAPH_LDAP_PASSWORD)")
	fs.StringVar(&src.BaseDN, "ldap-base", "", "base `DN` of the search")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}

	l := deploy.Layout{Dir: *data}
	d, err := l.Load()
	if err != nil {
		return err
	}
	app, iss, err := syncAgent(l, d)
	if err != nil {
		return err
	}
	src.Password = os.Getenv("HYBRIDGRAPH_LDAP_PASSWORD")
	batch, err := readSource(ctx, l, &src)
	if err != nil {
		return err
	}

	c := &dirsync.Client{BaseURL: d.CloudURL, HTTP: &http.Client{Timeout: *timeout},
		Token: func(context.Context) (string, error) {
			return iss.AppToken(app, syncTokenTTL)
		}}
	sum, err := c.Push(ctx, batch, *confirm)
	if err != nil {
		return err
	}
	printSyncSummary(stdout, sum)
	return nil
}

// syncAgent finds (or registers once) the sync agent's app, holding only
// the DirectorySync role, and an issuer for its tokens. The sync agent runs
// beside the token service's key here, so it signs its own app token; a
// remote agent would use the client credentials grant instead.
func syncAgent(l deploy.Layout, d *deploy.Deployment) (auth.App, *auth.Issuer, error) {
	key, err := auth.LoadOrCreateKey(l.KeyDir())
	if err != nil {
		return auth.App{}, nil, err
	}
	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	apps, err := auth.LoadApps(l.KeyDir())
	if err != nil {
		return auth.App{}, nil, err
	}
	for _, a := range apps {
		if a.DisplayName == syncAppName {
			return a, iss, nil
		}
	}
	roles := auth.DirectorySync.Application
	id, _, err := auth.RegisterApp(l.KeyDir(), syncAppName, roles)
	if err != nil {
		return auth.App{}, nil, err
	}
	return auth.App{ClientID: id, DisplayName: syncAppName, Roles: roles}, iss, nil
}

// readSource reads the on-prem directory from LDAP when src names a
// server, else from the data directory's built-in directory.
func readSource(ctx context.Context, l deploy.Layout, src *dirsync.LDAPSource) (
	directory.Batch, error) {
	if src.URL != "" {
		return src.Read(ctx)
	}
	prem, err := directory.Open(l.Directory(directory.OnPrem), directory.OnPrem)
	if err != nil {
		return directory.Batch{}, err
	}
	defer prem.Close()
	return dirsync.FromDirectory(ctx, prem)
}

func printSyncSummary(w io.Writer, s directory.Summary) {
	fmt.Fprintf(w, "synced at %s: added %d, updated %d, deleted %d, held %d, failed %d\n",
		s.SyncedAt.Format(time.RFC3339), s.Added, s.Updated, s.Deleted, s.Held, s.Failed)
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  %s (%s): %s\n", p.UPN, p.ImmutableID, p.Reason)
	}
}
