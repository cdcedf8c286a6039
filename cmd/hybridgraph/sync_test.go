package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

func TestSyncDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	runDemoFor(t, dir)
	ctx := context.Background()

	// The demo seeded every user on premises and their cloud entries as
	// synced objects, as a hybrid deployment has them: a sync finds
	// nothing to change, and nothing collides.
	for _, want := range []string{"updated 0, deleted 0", "updated 0, deleted 0"} {
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"sync", "--data", dir}, &out, &errOut); code != 0 {
			t.Fatalf("sync: exit status %d, stderr %q", code, errOut.String())
		}
		if !strings.Contains(out.String(), "added 0, "+want+", held 0, failed 0") {
			t.Errorf("sync: got %q, want %q", out.String(), want)
		}
	}

	l := deploy.Layout{Dir: dir}
	cloud, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	carol, err := cloud.Lookup(ctx, "carol@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if !carol.SyncEnabled || carol.ImmutableID == "" || carol.Premises != directory.OnPrem {
		t.Errorf("carol in the cloud: got %+v, want synced, on premises", carol)
	}
	if last, err := cloud.LastSync(ctx); err != nil || last.IsZero() {
		t.Errorf("LastSync = %v, %v; want a time", last, err)
	}
}

// TestSyncRefuses checks that sync refuses what it cannot honour before it
// reads or pushes anything.
func TestSyncRefuses(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"stray argument", []string{"now"}, `unexpected argument "now"`},
		{"zero timeout", []string{"--timeout", "0"}, "--timeout 0s: want above 0"},
		{"negative timeout", []string{"--timeout", "-5s"}, "--timeout -5s: want above 0"},
		{"huge timeout", []string{"--timeout", "100h"}, "at most 1h0m0s"},
		{"LDAP bind without --ldap", []string{"--ldap-bind", "cn=sync", "--ldap-base",
			"dc=x"}, "need --ldap URL"},
		{"LDAP base without --ldap", []string{"--ldap-base", "dc=x"}, "need --ldap URL"},
		{"no base", []string{"--ldap", "ldap://127.0.0.1:1", "--ldap-bind", "cn=sync"},
			"--ldap needs --ldap-base"},
		{"empty bind", []string{"--ldap", "ldap://127.0.0.1:1", "--ldap-bind", "",
			"--ldap-base", "dc=x"}, "--ldap needs --ldap-bind"},
		{"no password", []string{"--ldap", "ldap://127.0.0.1:1", "--ldap-bind", "cn=sync",
			"--ldap-base", "dc=x"}, "$HYBRIDGRAPH_LDAP_PASSWORD, which is empty"},
		{"not a URL", []string{"--ldap", "notaurl", "--ldap-bind", "cn=sync",
			"--ldap-base", "dc=x"}, `--ldap "notaurl": want an ldap:// or ldaps:// URL`},
		{"HTTP URL", []string{"--ldap", "http://dc1", "--ldap-bind", "cn=sync",
			"--ldap-base", "dc=x"}, `--ldap "http://dc1"`},
		{"zero threshold", []string{"--delete-threshold", "0"}, `"0" is not a percentage`},
		{"threshold over 100", []string{"--delete-threshold", "101"}, "at most 100"},
		{"threshold not a number", []string{"--delete-threshold", "ten"}, `"ten"`},
		{"unknown flag", []string{"--frobnicate"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(ldapPasswordEnv, "")
			if strings.HasPrefix(tt.name, "empty bind") || strings.Contains(tt.name, "URL") {
				t.Setenv(ldapPasswordEnv, "secret")
			}
			var out, errOut bytes.Buffer
			args := append([]string{"sync", "--data", t.TempDir()}, tt.args...)
			if code := run(context.Background(), args, &out, &errOut); code != syncExitUsage {
				t.Errorf("exit status: got %d, want %d", code, syncExitUsage)
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", errOut.String(), tt.stderr)
			}
		})
	}
}

// TestSyncCannotRun checks that a sync that cannot reach its data or cloud
// exits 3, apart from the statuses of a run's outcome.
func TestSyncCannotRun(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"sync", "--data", t.TempDir() + "/missing"}
	if code := run(context.Background(), args, &out, &errOut); code != syncExitError {
		t.Errorf("exit status: got %d, want %d (stderr %q)", code, syncExitError,
			errOut.String())
	}
	if !strings.Contains(errOut.String(), "hybridgraph sync: ") {
		t.Errorf("stderr: got %q, want the reason", errOut.String())
	}
}
