package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
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
			"start); 0 turns the sync loop off")
	var src dirsync.LDAPSource
	ldapFlags(fs, &src)
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hybridgraph demo: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if o.DirSyncInterval < 0 {
		fmt.Fprintln(stderr, "hybridgraph demo: --dirsync-interval: want 0 (off) or more")
		return errUsage
	}
	if src.URL != "" {
		// The loop and `hybridgraph sync` keep one incremental read state.
		src.Password = os.Getenv(ldapPasswordEnv)
		src.StatePath = filepath.Join(deploy.Layout{Dir: o.Data}.Side(directory.OnPrem),
			dirsync.LDAPStateFile)
		o.DirSyncSource = &src
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	o.Log = log
	if o.ProxyTimeout <= 0 || o.ProxyTimeout > 10*time.Minute {
		return errProxyTimeout
	}
	return demo.Run(ctx, o)
}

var errProxyTimeout = errors.New("--proxy-timeout: want a duration above 0 and at most 10m")
