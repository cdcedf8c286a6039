package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/config"
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

// The exit statuses of check beyond its verdicts (0 pass, 1 warnings, 2
// failures), kept apart from them so that a script never reads a check
// that did not run as a deployment's verdict. 64 is EX_USAGE of BSD's
// sysexits(3).
const (
	checkExitError = 3  // the check could not run: unreadable input, no deployment
	checkExitUsage = 64 // a command-line mistake: unknown flag, bad value, clash
)

// checkUsage heads check's -h text.
const checkUsage = `usage: hybridgraph check [flags]

Checks a hybrid deployment's readiness (R1-R6 and OAuth) from outside and
prints a report.

Exit status: 0 every check passed, 1 warnings only, 2 any failure,
3 the check could not run (e.g. an unreadable --from file, data directory or
configuration), 64 a usage error (unknown flag, bad value, clashing flags).

Flags:
`

type checkFlags struct {
	data, config, connector, save, from, resolver, url, adURL, user string
	json                                                            bool
	samples                                                         int
	dataSet                                                         bool // --data given
	// set holds the names of the flags given on the command line.
	set map[string]bool
}

// runCheck runs check and turns its errors into its exit statuses.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	err := check(ctx, args, stdout, stderr)
	var status exitStatus
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp), errors.As(err, &status):
		return err
	case errors.Is(err, errUsage):
		return exitStatus(checkExitUsage)
	}
	fmt.Fprintf(stderr, "hybridgraph check: %v\n", err)
	return exitStatus(checkExitError)
}

func check(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), checkUsage)
		fs.PrintDefaults()
	}
	var f checkFlags
	fs.StringVar(&f.data, "data", DefaultData, "data `directory` of the deployment to check")
	fs.StringVar(&f.config, "config", "",
		"check the deployment a serve configuration `file` describes (instead of --data)")
	fs.StringVar(&f.connector, "connector", "",
		"with --config: the connector `name` whose on-prem organisation to check "+
			"(needed when several are enabled)")
	fs.StringVar(&f.save, "save", "", "save the collection to `file` before analysing it")
	fs.StringVar(&f.from, "from", "", "analyse a collection saved in `file` (no network)")
	fs.BoolVar(&f.json, "json", false, "print the report as JSON")
	fs.StringVar(&f.resolver, "resolver", "", "DNS server `host:port` (default: the system's)")
	fs.IntVar(&f.samples, "samples", readiness.DefaultSamples,
		"requests that sample the namespace's front ends")
	fs.StringVar(&f.url, "url", "", "on-prem client namespace URL "+
		"(default: the data dir's; with --config, the host Autodiscover answers with)")
	fs.StringVar(&f.adURL, "autodiscover-url", "", "Autodiscover base URL (default: --url)")
	fs.StringVar(&f.user, "user", "", "on-prem mailbox to probe (default: from the topology)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	f.dataSet = f.set["data"]
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "hybridgraph check: unexpected argument %q\n", fs.Arg(0))
		return errUsage
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

// checked is the deployment to check: its organisation, the token
// service's key folder, the cloud whose directory R3 reads, and the
// on-prem organisation's namespace and Autodiscover.
type checked struct {
	d                          *deploy.Deployment
	keyDir                     string
	cloudURL, onPremURL, adURL string
	// namespaceFromAutodiscover: onPremURL is the discovery endpoint's
	// origin, and the client namespace is what Autodiscover answers.
	namespaceFromAutodiscover bool
}

// collectOrLoad reads the saved collection, or collects from the
// deployment of the data directory or configuration.
func collectOrLoad(ctx context.Context, f checkFlags) (*readiness.Collection, error) {
	if f.from != "" {
		return readiness.LoadCollection(f.from)
	}
	var (
		dep checked
		err error
	)
	if f.config != "" {
		dep, err = fromConfig(f.config, f.connector)
	} else {
		dep, err = fromData(f.data)
	}
	if err != nil {
		return nil, err
	}
	if f.url != "" {
		dep.onPremURL = f.url
		dep.namespaceFromAutodiscover = false
	}
	if f.adURL != "" {
		dep.adURL = f.adURL
	}
	t, err := dep.target(f)
	if err != nil {
		return nil, err
	}
	return readiness.Collect(ctx, t)
}

// fromData is the deployment of a data directory, as the demo wrote it.
func fromData(dir string) (checked, error) {
	l := deploy.Layout{Dir: dir}
	d, err := l.Load()
	if err != nil {
		return checked{}, err
	}
	return checked{d: d, keyDir: l.KeyDir(), cloudURL: d.CloudURL, onPremURL: d.OnPremURL},
		nil
}

// fromConfig is the deployment a serve configuration describes: the
// organisation and keys of its data directory, its public URL as the
// cloud, and the on-prem organisation behind one enabled connector, asked
// at its discovery endpoint; the client namespace is the host Autodiscover
// answers with (the discovery host itself in a single-namespace Exchange)
// unless --url names it.
func fromConfig(path, name string) (checked, error) {
	c, err := config.Load(path)
	if err != nil {
		return checked{}, err
	}
	cn, err := pickConnector(c.Connectors, name)
	if err != nil {
		return checked{}, fmt.Errorf("%s: %w", path, err)
	}
	u, err := url.Parse(cn.DiscoveryEndpoint)
	if err != nil {
		return checked{}, fmt.Errorf("connector %s: discovery endpoint: %w", cn.Name, err)
	}
	origin := u.Scheme + "://" + u.Host
	l := deploy.Layout{Dir: c.Data.Directory}
	d, err := l.Load()
	if err != nil {
		return checked{}, err
	}
	keyDir := c.Data.Keys
	if keyDir == "" {
		keyDir = l.KeyDir()
	}
	return checked{d: d, keyDir: keyDir, cloudURL: strings.TrimSuffix(c.PublicURL, "/"),
		onPremURL: origin, adURL: origin, namespaceFromAutodiscover: true}, nil
}

// pickConnector is the enabled connector called name, or the only enabled
// one when name is empty; a disabled connector routes nothing, so there
// is nothing behind it to check.
func pickConnector(cs []config.Connector, name string) (config.Connector, error) {
	var enabled []string
	for _, cn := range cs {
		if name != "" && cn.Name == name {
			if !cn.On() {
				return cn, fmt.Errorf("connector %q is disabled", name)
			}
			return cn, nil
		}
		if cn.On() {
			enabled = append(enabled, cn.Name)
		}
	}
	switch {
	case name != "":
		return config.Connector{}, fmt.Errorf("no connector %q", name)
	case len(enabled) == 0:
		return config.Connector{}, errors.New("no enabled connector: nothing on premises to check")
	case len(enabled) > 1:
		return config.Connector{}, fmt.Errorf("%d enabled connectors (%s): name one with "+
			"--connector", len(enabled), strings.Join(enabled, ", "))
	}
	for _, cn := range cs {
		if cn.On() {
			return cn, nil
		}
	}
	return config.Connector{}, errors.New("no enabled connector")
}

// target is the check of dep, signed with its token service's key.
func (dep checked) target(f checkFlags) (readiness.Target, error) {
	key, err := auth.LoadOrCreateKey(dep.keyDir)
	if err != nil {
		return readiness.Target{}, err
	}
	d := dep.d
	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	return readiness.Target{
		URL: dep.onPremURL, AutodiscoverURL: dep.adURL, Email: f.user, Domain: d.Domain,
		NamespaceFromAutodiscover: dep.namespaceFromAutodiscover,
		Caller:                    "admin@" + d.Domain, Resolver: f.resolver, Samples: f.samples,
		Token: func(upn, host string) (string, error) {
			// Reading one message is all the OAuth check does.
			return iss.S2SToken(upn, host, []string{"Mail.Read"}, checkTokenTTL)
		},
		// R3 reads the cloud's sync state as an admin app that reads the
		// directory, signed with the token service's key like the S2S token.
		CloudURL: dep.cloudURL,
		CloudToken: func() (string, error) {
			return iss.AppToken(auth.App{ClientID: checkAppID,
				DisplayName: "hybridgraph check", Roles: []string{"Directory.Read.All"}},
				checkTokenTTL)
		},
	}, nil
}

// collectingFlags are the flags that say what to collect, which a saved
// collection (--from) has already fixed.
var collectingFlags = []string{"data", "config", "connector", "save", "resolver", "samples",
	"url", "autodiscover-url", "user"}

// validate checks the flags that parse cannot: values, ranges and
// combinations.
func (f *checkFlags) validate() error {
	if f.from != "" {
		for _, name := range collectingFlags {
			if f.set[name] {
				return fmt.Errorf("--from and --%s exclude each other: a saved collection "+
					"is analysed as it was collected", name)
			}
		}
	}
	for _, u := range []struct{ name, value string }{{"url", f.url},
		{"autodiscover-url", f.adURL}} {
		if err := checkBaseURL(u.value); err != nil {
			return fmt.Errorf("--%s %q: %w", u.name, u.value, err)
		}
	}
	if f.user != "" {
		if a, err := mail.ParseAddress(f.user); err != nil || a.Address != f.user ||
			!strings.Contains(f.user, "@") {
			return fmt.Errorf("--user %q: want a mailbox address such as carol@contoso.com",
				f.user)
		}
	}
	switch {
	case f.samples < 1 || f.samples > readiness.MaxSamples:
		return fmt.Errorf("--samples %d: want 1 to %d", f.samples, readiness.MaxSamples)
	case f.save != "" && f.from != "":
		return errors.New("--save and --from exclude each other")
	case f.config != "" && f.from != "":
		return errors.New("--config and --from exclude each other")
	case f.config != "" && f.dataSet:
		return errors.New("--config and --data exclude each other: the configuration " +
			"names its data directory")
	case f.connector != "" && f.config == "":
		return errors.New("--connector needs --config")
	case f.resolver != "":
		if _, port, err := net.SplitHostPort(f.resolver); err != nil || port == "" {
			return fmt.Errorf("--resolver %q: want host:port", f.resolver)
		}
	}
	return nil
}

// checkBaseURL accepts an empty value (the default) or an http(s) URL with
// a host and nothing after the path, as the check's base URLs are.
func checkBaseURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("want an http or https URL such as https://mail.contoso.com")
	case u.Host == "":
		return errors.New("the URL names no host")
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return errors.New("want a base URL without user, query or fragment")
	}
	return nil
}
