package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	o := demo.Options{Out: stdout}
	fs.StringVar(&o.Data, "data", DefaultData, "data `directory` (created and seeded on first start)")
	fs.StringVar(&o.CloudAddr, "cloud-addr", "127.0.0.1:5080",
		"listen address of the cloud side (Graph, tokens)")
	fs.StringVar(&o.OnPremAddr, "onprem-addr", "127.0.0.1:5443",
		"listen address of the on-prem server")
	fs.StringVar(&o.CloudSMTPAddr, "cloud-smtp-addr", "127.0.0.1:5025",
		"listen address of the cloud's SMTP receiver (mail from on premises)")
	fs.StringVar(&o.OnPremSMTP, "onprem-smtp-addr", "127.0.0.1:5026",
		"listen address of the on-prem SMTP receiver (mail from the cloud)")
	fs.DurationVar(&o.ProxyTimeout, "proxy-timeout", demo.DefaultProxyTimeout,
		"how long the gateway waits for the on-prem server")
	fs.DurationVar(&o.DirSyncInterval, "dirsync-interval", dirsync.DefaultInterval,
		"how often the on-prem server pushes its directory to the cloud (also once at "+
			"start): at least "+dirsync.MinInterval.String()+", or 0 to turn the sync "+
			"loop off; each run is bounded by "+dirsync.DefaultRunTimeout.String())
	fs.StringVar(&o.OnPremPublicURL, "onprem-public-url", "",
		"the on-prem server's `URL` as a TLS front door publishes it (Exchange's ExternalUrl): "+
			"Autodiscover answers it and server-to-server tokens are for its host; it must "+
			"reach the on-prem server from here (default: the URL it listens on)")
	threshold := thresholdFlag(fs)
	for _, name := range []string{"ldap", "ldap-bind", "ldap-base"} {
		fs.String(name, "", "refused: the demo syncs only its built-in directory "+
			"(see hybridgraph sync --ldap)")
	}
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hybridgraph demo: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if o.DirSyncInterval != 0 && o.DirSyncInterval < dirsync.MinInterval {
		fmt.Fprintf(stderr, "hybridgraph demo: --dirsync-interval %v: want 0 (off) or at "+
			"least %v\n", o.DirSyncInterval, dirsync.MinInterval)
		return errUsage
	}
	if u, err := url.Parse(o.OnPremPublicURL); o.OnPremPublicURL != "" && (err != nil ||
		u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Path != "" &&
		u.Path != "/" || u.RawQuery != "") {
		fmt.Fprintf(stderr, "hybridgraph demo: --onprem-public-url %q: want http(s)://host[:port]\n",
			o.OnPremPublicURL)
		return errUsage
	}
	if ldapSet(fs) {
		fmt.Fprintln(stderr, errDemoLDAP)
		return errUsage
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	o.Log = log
	o.DeleteThreshold = threshold.share
	if o.ProxyTimeout <= 0 || o.ProxyTimeout > 10*time.Minute {
		return errProxyTimeout
	}
	return demo.Run(ctx, o)
}

// errDemoLDAP refuses an LDAP source for the demo's sync loop. The demo's
// on-prem server answers Autodiscover, topology and mail for the users of
// its built-in directory only, with mailboxes in its own databases: LDAP
// users synced to the cloud would be routed to a server that knows
// neither them nor their mailboxes (Autodiscover UserNotFound, then
// MailboxNotEnabledForRESTAPI), and the readiness check would judge a
// topology that is not the synced one.
const errDemoLDAP = "hybridgraph demo: --ldap, --ldap-bind and --ldap-base are not for " +
	"the demo: its on-prem server serves only the mailboxes of its built-in directory, " +
	"so LDAP users synced to the cloud would be routed to a server that cannot serve " +
	"them. Sync an LDAP directory with `hybridgraph sync --ldap` into a deployment whose " +
	"on-prem server holds that directory's mailboxes."

// ldapSet reports whether any LDAP flag was given.
func ldapSet(fs *flag.FlagSet) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || strings.HasPrefix(f.Name, "ldap") })
	return set
}

var errProxyTimeout = errors.New("--proxy-timeout: want a duration above 0 and at most 10m")
