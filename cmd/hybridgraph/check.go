package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/readiness"
)

// checkTokenTTL is the lifetime of the S2S tokens the check mints.
const checkTokenTTL = 5 * time.Minute

// checkAppID is the client id the check's admin reads carry, so that the
// cloud's access log tells them apart; the check signs its own tokens and
// registers no app.
const checkAppID = "7d3c9a52-2f1e-4b8a-9c61-0e5b4d2a8f13"

// exitStatus is a command's verdict that is not an error: check exits 1
// with warnings and 2 with failures after printing its report.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

type checkFlags struct {
	data, save, from, resolver, url, adURL, user string
	json                                         bool
	samples                                      int
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	var f checkFlags
	fs.StringVar(&f.data, "data", DefaultData, "data `directory` of the deployment to check")
	fs.StringVar(&f.save, "save", "", "save the collection to `file` before analysing it")
	fs.StringVar(&f.from, "from", "", "analyse a collection saved in `file` (no network)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON")
	fs.StringVar(&f.resolver, "resolver", "", "DNS server `host:port` (default: the system's)")
	fs.IntVar(&f.samples, "samples", readiness.DefaultSamples,
		"requests that sample the namespace's front ends")
	fs.StringVar(&f.url, "url", "", "on-prem client namespace URL (default: the data dir's)")
	fs.StringVar(&f.adURL, "autodiscover-url", "", "Autodiscover base URL (default: --url)")
	fs.StringVar(&f.user, "user", "", "on-prem mailbox to probe (default: from the topology)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		fmt.Fprintf(stderr, "hybridgraph check: %v\n", err)
		return errUsage
	}
	c, err := collectOrLoad(ctx, f)
	if err != nil {
		return err
	}
	if f.save != "" {
		if err := c.Save(f.save); err != nil {
			return err
		}
	}
	rep := readiness.Analyse(c)
	if f.json {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return err
	}
	if code := rep.ExitCode(); code != 0 {
		return exitStatus(code)
	}
	return nil
}

// collectOrLoad reads the saved collection, or collects from the
// deployment of the data directory with its token service's key.
func collectOrLoad(ctx context.Context, f checkFlags) (*readiness.Collection, error) {
	if f.from != "" {
		return readiness.LoadCollection(f.from)
	}
	l := deploy.Layout{Dir: f.data}
	d, err := l.Load()
	if err != nil {
		return nil, err
	}
	key, err := auth.LoadOrCreateKey(l.KeyDir())
	if err != nil {
		return nil, err
	}
	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	t := readiness.Target{
		URL: d.OnPremURL, AutodiscoverURL: f.adURL, Email: f.user,
		Caller: "admin@" + d.Domain, Resolver: f.resolver, Samples: f.samples,
		Token: func(upn, host string) (string, error) {
			// Reading one message is all the OAuth check does.
			return iss.S2SToken(upn, host, []string{"Mail.Read"}, checkTokenTTL)
		},
		// R3 reads the cloud's sync state as an admin app that reads the
		// directory, signed with the token service's key like the S2S token.
		CloudURL: d.CloudURL,
		CloudToken: func() (string, error) {
			return iss.AppToken(auth.App{ClientID: checkAppID,
				DisplayName: "hybridgraph check", Roles: []string{"Directory.Read.All"}},
				checkTokenTTL)
		},
	}
	if f.url != "" {
		t.URL = f.url
	}
	return readiness.Collect(ctx, t)
}

// validate checks the flags that parse cannot: ranges and combinations.
func (f *checkFlags) validate() error {
	switch {
	case f.samples < 1 || f.samples > readiness.MaxSamples:
		return fmt.Errorf("--samples %d: want 1 to %d", f.samples, readiness.MaxSamples)
	case f.save != "" && f.from != "":
		return errors.New("--save and --from exclude each other")
	case f.resolver != "":
		if _, port, err := net.SplitHostPort(f.resolver); err != nil || port == "" {
			return fmt.Errorf("--resolver %q: want host:port", f.resolver)
		}
	}
	return nil
}
