package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// cli runs one command and fails the test unless it exits with want.
func cli(t *testing.T, want int, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, &out, &errOut); code != want {
		t.Fatalf("%s: exit status %d, want %d\nstdout %s\nstderr %s",
			strings.Join(args, " "), code, want, out.String(), errOut.String())
	}
	return out.String() + errOut.String()
}

// cloudHas reports whether the cloud directory of dir holds upn.
func cloudHas(t *testing.T, dir, upn string) bool {
	t.Helper()
	l := deploy.Layout{Dir: dir}
	cloud, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	_, err = cloud.Lookup(context.Background(), upn)
	if err != nil && !errors.Is(err, directory.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestDirectoryDeletesThroughSync adds and removes on-prem users with the
// directory command and syncs them with the sync command: a deletion of
// more than 10% of the synced users is held until --confirm-deletes, one
// within the share goes at once, and an added user's mailbox is served
// through the gateway.
func TestDirectoryDeletesThroughSync(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	runDemoFor(t, dir)
	want := func(out, part string) {
		t.Helper()
		if !strings.Contains(out, part) {
			t.Errorf("output lacks %q:\n%s", part, out)
		}
	}
	// The demo's cloud entries are synced from the start: nothing to do.
	want(cli(t, 0, "sync", "--data", dir), "added 0, updated 0, deleted 0, held 0, failed 0")

	// 1 of 4 synced users is 25%: held.
	want(cli(t, 0, "directory", "--data", dir, "remove", "dave@contoso.test"),
		"removed dave@contoso.test from the on-prem directory; its mailbox data stays "+
			"in EX2013-DB01")
	out := cli(t, syncExitHeld, "sync", "--data", dir)
	want(out, "deleted 0, held 1, failed 0")
	want(out, "dave@contoso.test")
	want(out, "deletion held: 1 of 4 synced users is more than 10%")
	if !cloudHas(t, dir, "dave@contoso.test") {
		t.Fatal("a held deletion removed dave from the cloud")
	}
	// A threshold above the run's share lets it through: 1 of 4 is 25%.
	want(cli(t, syncExitHeld, "sync", "--data", dir, "--delete-threshold", "24.9"),
		"deletion held: 1 of 4 synced users is more than 24.9%")
	want(cli(t, 0, "sync", "--data", dir, "--confirm-deletes"), "deleted 1, held 0")
	if cloudHas(t, dir, "dave@contoso.test") {
		t.Fatal("a confirmed deletion left dave in the cloud")
	}

	// Eight more users make 11 synced: one deletion (9%) goes unconfirmed.
	for i := 1; i <= 8; i++ {
		upn := fmt.Sprintf("user%d@contoso.test", i)
		want(cli(t, 0, "directory", "add", "--data", dir, "--upn", upn,
			"--name", fmt.Sprintf("User %d", i)), "added "+upn+": mailbox ")
	}
	want(cli(t, 0, "sync", "--data", dir), "added 8, updated 0, deleted 0")
	want(cli(t, 0, "directory", "remove", "--data", dir, "user8@contoso.test"), "removed")
	want(cli(t, 0, "sync", "--data", dir), "deleted 1, held 0, failed 0")
	if cloudHas(t, dir, "user8@contoso.test") || !cloudHas(t, dir, "user7@contoso.test") {
		t.Error("after the sync: want user8 gone from the cloud and user7 kept")
	}
	// 2 of 10 is 20%: held by default, let through by a 20% threshold.
	for _, u := range []string{"user6@contoso.test", "user7@contoso.test"} {
		cli(t, 0, "directory", "remove", "--data", dir, u)
	}
	want(cli(t, syncExitHeld, "sync", "--data", dir), "deleted 0, held 2, failed 0")
	want(cli(t, 0, "sync", "--data", dir, "--delete-threshold", "20"),
		"deleted 2, held 0, failed 0")
	if cloudHas(t, dir, "user7@contoso.test") {
		t.Error("a deletion within --delete-threshold left user7 in the cloud")
	}

	list := cli(t, 0, "directory", "--data", dir, "list")
	want(list, "user1@contoso.test   User 1")
	for _, gone := range []string{"dave@", "user8@", "user7@"} {
		if strings.Contains(list, gone) {
			t.Errorf("list still names %s:\n%s", gone, list)
		}
	}

	// The added user's mailbox works across premises.
	if got := getAs(t, dir, "user1@contoso.test", "/v1.0/me/mailFolders/inbox/messages"); got !=
		http.StatusOK {
		t.Errorf("user1's inbox through the gateway: got %d, want 200", got)
	}
}

// getAs sends GET path to the cloud of dir with a token of upn and returns
// the status.
func getAs(t *testing.T, dir, upn, path string) int {
	t.Helper()
	tok := strings.TrimSpace(cli(t, 0, "token", "--data", dir, "--user", upn))
	d, err := deploy.Layout{Dir: dir}.Load()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, d.CloudURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestDirectoryRefuses(t *testing.T) {
	dir := t.TempDir()
	// A deployment to refuse against: only deployment.json is needed.
	l := deploy.Layout{Dir: dir}
	if err := l.Save(&deploy.Deployment{Domain: "contoso.test",
		OnPremDatabases: []string{"EX2016-DB01"}}); err != nil {
		t.Fatal(err)
	}
	if err := func() error {
		prem, err := l.Open(directory.OnPrem, []string{"EX2016-DB01"})
		if err != nil {
			return err
		}
		defer prem.Close()
		return prem.Directory.Add(context.Background(), directory.User{ObjectID: "o1",
			UPN: "erin@contoso.test", Mail: "erin@contoso.test", Premises: directory.OnPrem,
			RecipientType: directory.UserMailbox, Database: "EX2016-DB01"})
	}(); err != nil {
		t.Fatal(err)
	}
	add := []string{"directory", "--data", dir, "add"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no subcommand", []string{"directory", "--data", dir}, 2, "usage:"},
		{"unknown subcommand", []string{"directory", "--data", dir, "purge"}, 2,
			`unknown subcommand "purge"`},
		{"no upn", append(add, "--name", "X"), 2, "--upn is required"},
		{"no name", append(add, "--upn", "x@contoso.test"), 2, "--name is required"},
		{"other domain", append(add, "--upn", "x@fabrikam.test", "--name", "X"), 2,
			"in the organisation's domain contoso.test"},
		{"not an address", append(add, "--upn", "X <x@contoso.test>", "--name", "X"), 2,
			"want an address"},
		{"bad mail", append(add, "--upn", "x@contoso.test", "--mail", "x", "--name", "X"), 2,
			`--mail "x"`},
		{"unknown database", append(add, "--upn", "x@contoso.test", "--name", "X",
			"--database", "DB9"), 2, `--database "DB9": want one of EX2016-DB01`},
		{"unknown flag", append(add, "--upm", "x@contoso.test"), 2,
			"flag provided but not defined"},
		{"stray", append(add, "--upn", "x@contoso.test", "--name", "X", "now"), 2,
			`unexpected argument "now"`},
		{"taken", append(add, "--upn", "ERIN@contoso.test", "--name", "X"), 1,
			"user erin@contoso.test exists already"},
		{"remove nobody", []string{"directory", "--data", dir, "remove", "zed@contoso.test"},
			1, `no user "zed@contoso.test"`},
		{"remove none", []string{"directory", "--data", dir, "remove"}, 2, "exactly one user"},
		{"remove two", []string{"directory", "--data", dir, "remove", "a", "b"}, 2,
			"exactly one user"},
		{"list stray", []string{"directory", "--data", dir, "list", "all"}, 2,
			`unexpected argument "all"`},
		{"no deployment", []string{"directory", "--data", t.TempDir(), "list"}, 1,
			"no deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut)
			if code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("got exit %d, stderr %q; want %d, %q", code, errOut.String(),
					tt.code, tt.stderr)
			}
		})
	}
}

// startBanner starts the demo on dir and returns its banner once printed
// and a function that stops it.
func startBanner(t *testing.T, dir string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{Data: dir, CloudAddr: "127.0.0.1:0",
			OnPremAddr: "127.0.0.1:0", CloudSMTPAddr: "127.0.0.1:0", OnPremSMTP: "127.0.0.1:0",
			DirSyncInterval: time.Hour, Out: out, Log: slog.New(slog.DiscardHandler)})
	}()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(),
		"Press Ctrl-C"); {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("demo stopped: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("demo not ready within 60s")
		}
	}
	return out.String(), stop
}

// TestDemoAfterRemovals removes the seeded users the demo's banner used to
// hand tokens to, and adds one as a cloud mailbox: the demo still starts,
// and its banner names the users that are there.
func TestDemoAfterRemovals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	first, stop := startBanner(t, dir)
	for _, part := range []string{"export ALICE=", "export CAROL=", "EX2013-DB01, no REST"} {
		if !strings.Contains(first, part) {
			t.Errorf("first banner lacks %q:\n%s", part, first)
		}
	}
	cli(t, 0, "directory", "--data", dir, "remove", "alice@contoso.test")
	cli(t, 0, "directory", "--data", dir, "remove", "carol@contoso.test")
	cli(t, syncExitHeld, "sync", "--data", dir)
	cli(t, 0, "sync", "--data", dir, "--confirm-deletes")
	cli(t, 0, "directory", "--data", dir, "add", "--upn", "erin@contoso.test", "--name",
		"Erin Cloud", "--database", "CLOUD-DB01")
	cli(t, 0, "sync", "--data", dir)
	if !cloudHas(t, dir, "erin@contoso.test") {
		t.Fatal("erin, added as a cloud mailbox, is not in the cloud after sync")
	}
	stop()

	second, stop := startBanner(t, dir)
	defer stop()
	for _, part := range []string{"export BOB=", "erin@contoso.test", "CLOUD-DB01"} {
		if !strings.Contains(second, part) {
			t.Errorf("banner after the removals lacks %q:\n%s", part, second)
		}
	}
	for _, gone := range []string{"alice@", "carol@", "CAROL", "sendMail"} {
		if strings.Contains(second, gone) {
			t.Errorf("banner after the removals still names %q:\n%s", gone, second)
		}
	}

	// erin's cloud mailbox answers through the gateway.
	if got := getAs(t, dir, "erin@contoso.test", "/v1.0/me/mailFolders/inbox"); got !=
		http.StatusOK {
		t.Errorf("erin's inbox: got %d, want 200", got)
	}
}

// TestDemoRefusesUnopenedDatabase: a mailbox moved to a database of a serve
// configuration (PostgreSQL) is not the demo's to serve; the demo says so
// at start rather than answering 500 for it.
func TestDemoRefusesUnopenedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	_, stop := startBanner(t, dir)
	stop()
	ctx := context.Background()
	cloud, err := directory.Open(deploy.Layout{Dir: dir}.Directory(directory.Cloud),
		directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := cloud.Lookup(ctx, "alice@contoso.test")
	if err == nil {
		err = cloud.Place(ctx, alice.ObjectID, directory.Placement{Premises: directory.Cloud,
			RecipientType: directory.UserMailbox, Database: "PG-B"})
	}
	cloud.Close()
	if err != nil {
		t.Fatal(err)
	}
	out := cli(t, 1, "demo", "--data", dir, "--cloud-addr", "127.0.0.1:0", "--onprem-addr",
		"127.0.0.1:0", "--cloud-smtp-addr", "127.0.0.1:0", "--onprem-smtp-addr", "127.0.0.1:0")
	if !strings.Contains(out, "PG-B (of alice@contoso.test)") ||
		!strings.Contains(out, "hybridgraph serve --config") {
		t.Errorf("demo over a directory naming PG-B: got %q, want the database, the user "+
			"and what to do", out)
	}
}
