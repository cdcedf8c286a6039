package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// MaxTokenTTL bounds --ttl: development tokens, not long-lived credentials.
const MaxTokenTTL = 24 * time.Hour

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	data := fs.String("data", DefaultData, "data `directory` of the deployment")
	user := fs.String("user", "", "user principal name, e.g. alice@contoso.test (required)")
	scope := fs.String("scope", "Mail.ReadWrite Mail.Send", "space-separated delegated scopes")
	ttl := fs.Duration("ttl", time.Hour, "token lifetime (at most 24h)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *user == "" {
		fmt.Fprintln(stderr, "hybridgraph token: --user is required")
		return errUsage
	}
	if *ttl <= 0 || *ttl > MaxTokenTTL {
		return fmt.Errorf("--ttl %v: want a duration above 0 and at most %v", *ttl, MaxTokenTTL)
	}
	scopes := strings.Fields(*scope)
	if len(scopes) == 0 {
		return errors.New("--scope: name at least one scope")
	}

	l := deploy.Layout{Dir: *data}
	d, err := l.Load()
	if err != nil {
		return err
	}
	key, err := auth.LoadOrCreateKey(l.KeyDir())
	if err != nil {
		return err
	}
	dir, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		return err
	}
	defer dir.Close()
	u, err := dir.Lookup(ctx, *user)
	if errors.Is(err, directory.ErrNotFound) {
		return fmt.Errorf("no user %q in the directory of %s", *user, *data)
	}
	if err != nil {
		return err
	}

	iss := &auth.Issuer{Key: key, TenantID: d.TenantID, BaseURL: d.CloudURL}
	tok, err := iss.DelegatedToken(auth.User{ObjectID: u.ObjectID, UPN: u.UPN,
		DisplayName: u.DisplayName}, scopes, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
