package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
)

// Options configure a demo run.
type Options struct {
	Data                      string // data directory
	CloudAddr, OnPremAddr     string // HTTP listen addresses
	CloudSMTPAddr, OnPremSMTP string // SMTP listen addresses for mail flow
	ProxyTimeout              time.Duration
	Out                       io.Writer // the banner
	Log                       *slog.Logger

	// OnPremPublicURL is the on-prem server's URL as a front door (a TLS
	// reverse proxy) publishes it, Exchange's ExternalUrl: Autodiscover
	// answers it, and the server takes server-to-server tokens for its
	// host. Empty: the URL it listens on. The demo's own gateway then
	// reaches the on-prem server through it too, so it must resolve and
	// be trusted here.
	OnPremPublicURL string
	// DeleteThreshold is the share of synced users the sync loop may delete
	// in one run before the cloud holds the deletions; 0 means
	// directory.DefaultDeleteThreshold.
	DeleteThreshold float64
	// DirSyncInterval is how often the on-prem server pushes its directory
	// to the cloud (dirsync.DefaultInterval in the command); it also syncs
	// once at start, before the banner. 0 runs no sync loop.
	DirSyncInterval time.Duration
	// DirSyncSource is what the loop pushes; nil means the built-in
	// on-prem directory of the data directory.
	DirSyncSource dirsync.Source
}

// ShutdownTimeout bounds a graceful stop.
const ShutdownTimeout = gateway.ShutdownTimeout

// Run starts both sides, seeds the data directory on first start, prints
// the banner, and serves until ctx ends.
func Run(ctx context.Context, o Options) error {
	l := layout{deploy.Layout{Dir: o.Data}}
	release, err := l.Lock()
	if err != nil {
		return err
	}
	defer release()
	ls, err := listen(o)
	if err != nil {
		return err
	}
	defer ls.close()

	d, err := l.Load()
	fresh := errors.Is(err, deploy.ErrNoDeployment)
	if err != nil && !fresh {
		return err
	}
	if fresh {
		d = &deploy.Deployment{}
	}
	d.CloudURL = "http://" + ls.cloud.Addr().String()
	d.OnPremURL = "http://" + ls.onprem.Addr().String()
	d.CloudSMTP = ls.cloudSMTP.Addr().String()
	d.OnPremSMTP = ls.onpremSMTP.Addr().String()
	if fresh {
		fmt.Fprintf(o.Out, "Seeding the demo organisation %s in %s ...\n", Domain, o.Data)
		if err := seed(ctx, l, d); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := l.Save(d); err != nil {
		return err
	}

	sys, err := start(ctx, l, d, ls, o)
	if err != nil {
		return err
	}
	if sys.synced != nil {
		// The banner promises a working organisation: let the first sync
		// reach the cloud (or fail and say so in the log) before it.
		select {
		case <-sys.synced:
		case <-ctx.Done():
		}
	}
	if err := banner(ctx, o.Out, l, d, sys); err != nil {
		stopErr := sys.stop()
		if ctx.Err() != nil {
			return stopErr // asked to stop while starting: not a failure
		}
		return err
	}
	<-ctx.Done()
	fmt.Fprintln(o.Out, "Shutting down ...")
	return sys.stop()
}

type listeners struct {
	cloud, onprem, cloudSMTP, onpremSMTP net.Listener
}

func listen(o Options) (*listeners, error) {
	ls := &listeners{}
	for _, a := range []struct {
		addr string
		ln   *net.Listener
		what string
	}{
		{o.CloudAddr, &ls.cloud, "--cloud-addr"},
		{o.OnPremAddr, &ls.onprem, "--onprem-addr"},
		{o.CloudSMTPAddr, &ls.cloudSMTP, "--cloud-smtp-addr"},
		{o.OnPremSMTP, &ls.onpremSMTP, "--onprem-smtp-addr"},
	} {
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			ls.close()
			return nil, fmt.Errorf("%s %s: %w", a.what, a.addr, err)
		}
		*a.ln = ln
	}
	return ls, nil
}

func (ls *listeners) close() {
	for _, ln := range []net.Listener{ls.cloud, ls.onprem, ls.cloudSMTP, ls.onpremSMTP} {
		if ln != nil {
			ln.Close()
		}
	}
}

// banner prints the URLs, ready tokens and example calls. It describes the
// directory as it stands: an admin may have removed or added users since the
// seed, so the tokens go to the first cloud and first on-prem REST mailbox
// found, preferring the seeded alice and carol.
func banner(ctx context.Context, w io.Writer, l layout, d *deploy.Deployment, s *system) error {
	users, err := s.cloud.Directory.All(ctx)
	if err != nil {
		return fmt.Errorf("banner: %w", err)
	}
	cloudUser := pickUser(users, directory.Cloud, "alice@"+d.Domain, nil)
	onpremUser := pickUser(users, directory.OnPrem, "carol@"+d.Domain, s.noREST)
	var app demoApp
	if b, err := os.ReadFile(l.demoAppFile()); err == nil {
		_ = json.Unmarshal(b, &app)
	}
	fmt.Fprintf(w, `
hybridgraph demo is ready (organisation %[1]s, tenant %[2]s)

  cloud   (Graph v1.0)        %[3]s/v1.0
  on-prem (Outlook REST v2.0) %[4]s/api/v2.0   Autodiscover: %[4]s/autodiscover/autodiscover.json

Mailboxes:
`, d.Domain, d.TenantID, d.CloudURL, d.OnPremURL)
	for _, u := range users {
		if u.Database == "" && u.Premises == directory.Cloud {
			continue
		}
		note := ""
		if u.Premises == directory.OnPrem && s.noREST(u.Database) {
			note = ", no REST"
		}
		fmt.Fprintf(w, "  %-28s %-7s %s%s\n", u.UPN, premisesName(u.Premises), u.Database, note)
	}
	if len(users) == 0 {
		fmt.Fprintln(w, "  (none: add one with hybridgraph directory --data "+l.Dir+" add)")
	}
	fmt.Fprintf(w, "\nTokens (1 hour; more with: hybridgraph token --data %s --user UPN):\n", l.Dir)
	var vars []string
	for _, u := range []*directory.User{cloudUser, onpremUser} {
		if u == nil {
			continue
		}
		tok, err := s.token(u)
		if err != nil {
			return err
		}
		v := shellName(u.UPN)
		vars = append(vars, v)
		fmt.Fprintf(w, "  export %s=%s\n", v, tok)
	}
	fmt.Fprintf(w, `
App (client credentials, roles %[1]v): client_id=%[2]s client_secret=%[3]s
  token endpoint: %[4]s/%[5]s/oauth2/v2.0/token
`, DemoRoles, app.ClientID, app.Secret, d.CloudURL, d.TenantID)
	if len(vars) > 0 {
		fmt.Fprintf(w, "\nTry:\n")
		fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $%s\" "+
			"'%s/v1.0/me/mailFolders/inbox/messages?$top=3&$select=subject,from'\n",
			vars[0], d.CloudURL)
		if len(vars) > 1 {
			fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $%s\" "+
				"'%s/v1.0/me/messages?$top=3&$select=subject'\n", vars[1], d.CloudURL)
			fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $%s\" "+
				"-H 'Content-Type: application/json' \\\n"+
				"       -d '{\"message\":{\"subject\":\"Hello\",\"body\":{\"contentType\":"+
				"\"text\",\"content\":\"Across premises.\"},\"toRecipients\":"+
				"[{\"emailAddress\":{\"address\":\"%s\"}}]}}' \\\n"+
				"       '%s/v1.0/me/sendMail'\n", vars[0], onpremUser.Mail, d.CloudURL)
		}
	}
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
	return nil
}

// pickUser returns the user named prefer if it has a mailbox on p, else the
// first such user (skipping databases skip says cannot serve REST), or nil.
func pickUser(users []directory.User, p directory.Premises, prefer string,
	skip func(string) bool) *directory.User {
	var first *directory.User
	for i := range users {
		u := &users[i]
		if u.Premises != p || u.Database == "" || (skip != nil && skip(u.Database)) {
			continue
		}
		if strings.EqualFold(u.UPN, prefer) {
			return u
		}
		if first == nil {
			first = u
		}
	}
	return first
}

func premisesName(p directory.Premises) string {
	if p == directory.OnPrem {
		return "on-prem"
	}
	return string(p)
}

// shellName makes a shell variable name from a UPN's local part: ALICE.
func shellName(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	var b strings.Builder
	for _, r := range strings.ToUpper(local) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9' && b.Len() > 0) {
			b.WriteRune(r)
		} else if b.Len() > 0 {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "TOKEN"
	}
	return b.String()
}

// token mints a one-hour delegated token for the banner.
func (s *system) token(u *directory.User) (string, error) {
	return s.issuer.DelegatedToken(userOf(*u), []string{"Mail.ReadWrite", "Mail.Send"}, time.Hour)
}

func userOf(u directory.User) auth.User {
	return auth.User{ObjectID: u.ObjectID, UPN: u.UPN, DisplayName: u.DisplayName}
}

func serveHTTP(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
	}
}

// noREST reports whether the on-prem database db is on a server without the
// REST endpoint (or unknown to the topology), so the banner hands no token for
// it and says so.
func (s *system) noREST(db string) bool {
	if s.topo == nil {
		return false
	}
	srv, ok := s.topo.DatabaseServer(db)
	if !ok {
		return true
	}
	b, err := onprem.ParseBuild(srv.Build)
	return err != nil || !b.ServesREST()
}
