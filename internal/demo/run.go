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
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
)

// Options configure a demo run.
type Options struct {
	Data                      string // data directory
	CloudAddr, OnPremAddr     string // HTTP listen addresses
	CloudSMTPAddr, OnPremSMTP string // SMTP listen addresses for mail flow
	ProxyTimeout              time.Duration
	Out                       io.Writer // the banner
	Log                       *slog.Logger

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

// banner prints the URLs, ready tokens and example calls.
func banner(ctx context.Context, w io.Writer, l layout, d *deploy.Deployment, s *system) error {
	alice, err := s.token(ctx, "alice@"+d.Domain)
	if err != nil {
		return err
	}
	carol, err := s.token(ctx, "carol@"+d.Domain)
	if err != nil {
		return err
	}
	var app demoApp
	if b, err := os.ReadFile(l.demoAppFile()); err == nil {
		_ = json.Unmarshal(b, &app)
	}
	fmt.Fprintf(w, `
hybridgraph demo is ready (organisation %[1]s, tenant %[2]s)

  cloud   (Graph v1.0)        %[3]s/v1.0
  on-prem (Outlook REST v2.0) %[4]s/api/v2.0   Autodiscover: %[4]s/autodiscover/autodiscover.json

Mailboxes: alice@%[1]s, bob@%[1]s (cloud); carol@%[1]s (on-prem, Exchange 2016 CU23);
           dave@%[1]s (on-prem, Exchange 2013: no REST)

Tokens (1 hour; more with: hybridgraph token --data %[5]s --user UPN):
  export ALICE=%[6]s
  export CAROL=%[7]s

App (client credentials, roles %[8]v): client_id=%[9]s client_secret=%[10]s
  token endpoint: %[3]s/%[2]s/oauth2/v2.0/token

Try:
  curl -s -H "Authorization: Bearer $ALICE" '%[3]s/v1.0/me/mailFolders/inbox/messages?$top=3&$select=subject,from'
  curl -s -H "Authorization: Bearer $CAROL" '%[3]s/v1.0/me/messages?$top=3&$select=subject'
  curl -s -H "Authorization: Bearer $ALICE" -H 'Content-Type: application/json' \
       -d '{"message":{"subject":"Hello Carol","body":{"contentType":"text","content":"Across premises."},"toRecipients":[{"emailAddress":{"address":"carol@%[1]s"}}]}}' \
       '%[3]s/v1.0/me/sendMail'

Press Ctrl-C to stop.
`, d.Domain, d.TenantID, d.CloudURL, d.OnPremURL, l.Dir, alice, carol, DemoRoles,
		app.ClientID, app.Secret)
	return nil
}

// token mints a one-hour delegated token for the banner.
func (s *system) token(ctx context.Context, upn string) (string, error) {
	u, err := s.cloud.Directory.Lookup(ctx, upn)
	if err != nil {
		return "", fmt.Errorf("banner token for %s: %w", upn, err)
	}
	return s.issuer.DelegatedToken(userOf(u), []string{"Mail.ReadWrite", "Mail.Send"}, time.Hour)
}

func userOf(u directory.User) auth.User {
	return auth.User{ObjectID: u.ObjectID, UPN: u.UPN, DisplayName: u.DisplayName}
}

func serveHTTP(srv *http.Server, ln net.Listener, log *slog.Logger) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
	}
}
