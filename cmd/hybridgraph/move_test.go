package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
)

func runMove(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"move-mailbox"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMoveMailboxUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"-h"}, 0, "usage: hybridgraph move-mailbox"},
		{"no user", []string{"--to", "DB"}, 2, "--user is required"},
		{"no target", []string{"--user", "a@b"}, 2, "--to is required"},
		{"stray argument", []string{"--user", "a@b", "--to", "DB", "extra"}, 2,
			`unexpected argument "extra"`},
		{"both sources", []string{"--data", "x", "--config", "y", "--user", "a@b",
			"--to", "DB"}, 2, "not both"},
		{"resume and rollback", []string{"--user", "a@b", "--resume", "--rollback"}, 2,
			"--resume or --rollback"},
		{"bad batch", []string{"--user", "a@b", "--to", "DB", "--batch", "0"}, 2,
			"--batch 0"},
		{"bad grace", []string{"--user", "a@b", "--to", "DB", "--grace", "-1s"}, 2,
			"--grace -1s"},
		{"unknown flag", []string{"--user", "a@b", "--to", "DB", "--fast"}, 2,
			"flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runMove(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("got exit %d, stderr %q; want exit %d and %q", code, stderr,
					tt.code, tt.want)
			}
		})
	}
}

func TestMoveMailboxDemo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l := deploy.Layout{Dir: dir}
	if err := demo.Seed(ctx, l, &deploy.Deployment{}); err != nil {
		t.Fatal(err)
	}
	data := []string{"--data", dir, "--grace", "10ms"}
	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"same database", []string{"--user", "alice@contoso.test", "--to", demo.CloudDB},
			"already in cloud/" + demo.CloudDB},
		{"unknown user", []string{"--user", "zed@contoso.test", "--to", demo.Ex2016DB},
			"no user zed@contoso.test"},
		{"unknown database", []string{"--user", "alice@contoso.test", "--to", "NOPE"},
			"no mailbox database NOPE"},
		{"Exchange 2013", []string{"--user", "alice@contoso.test", "--to", demo.Ex2013DB},
			"has no REST endpoint"},
		{"resume without a job", []string{"--user", "alice@contoso.test", "--resume"},
			"no unfinished move"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runMove(t, append(data, tt.args...)...)
			if code != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("got exit %d, stderr %q; want exit 1 and %q", code, stderr, tt.want)
			}
		})
	}

	// dave leaves the Exchange 2013 database for the 2016 one, then alice
	// goes on premises and back.
	moves := []struct{ user, to, premises string }{
		{"dave@contoso.test", demo.Ex2016DB, "onprem"},
		{"alice@contoso.test", demo.Ex2016DB, "onprem"},
		{"alice@contoso.test", demo.CloudDB, "cloud"},
	}
	for _, mv := range moves {
		code, stdout, stderr := runMove(t, append(data, "--user", mv.user, "--to", mv.to)...)
		if code != 0 || !strings.Contains(stdout, "moved "+mv.user+" from") ||
			!strings.Contains(stdout, "to "+mv.premises+"/"+mv.to) {
			t.Fatalf("move %s to %s: exit %d\nstdout %s\nstderr %s", mv.user, mv.to, code,
				stdout, stderr)
		}
	}
	cloud, err := directory.Open(l.Directory(directory.Cloud), directory.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	alice, err := cloud.Lookup(ctx, "alice@contoso.test")
	if err != nil || alice.Premises != directory.Cloud || alice.Database != demo.CloudDB {
		t.Errorf("alice after moving back: %+v, %v; want in the cloud, %s", alice, err,
			demo.CloudDB)
	}

	// A move left unfinished (as a killed process leaves it) blocks a new
	// one, which names both ways out; --rollback takes one.
	job := directory.MoveJob{ID: "stopped", UserID: alice.ObjectID, UPN: alice.UPN,
		MailboxGUID: alice.MailboxGUID, Phase: "prepared",
		Source: directory.MailboxLocation{Premises: directory.Cloud, Database: demo.CloudDB},
		Target: directory.MailboxLocation{Premises: directory.OnPrem, Database: demo.Ex2016DB}}
	if err := cloud.StartMove(ctx, job); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runMove(t, append(data, "--user", alice.UPN, "--to", demo.Ex2016DB)...)
	if code != 1 || !strings.Contains(stderr, "--resume") || !strings.Contains(stderr,
		"--rollback") {
		t.Errorf("move while one is unfinished: exit %d, stderr %q; want 1 naming "+
			"--resume and --rollback", code, stderr)
	}
	code, stdout, stderr := runMove(t, append(data, "--user", alice.UPN, "--rollback")...)
	if code != 0 || !strings.Contains(stdout, "rolled back") {
		t.Errorf("rollback: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestMoveMailboxConfig moves a mailbox between the databases a serve
// configuration lists: from the data directory's SQLite database to a
// PostgreSQL one and back.
func TestMoveMailboxConfig(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := pgtest.FreshDSN(t, "hgmovecmd_")
	path := filepath.Join(t.TempDir(), "serve.yaml")
	y := "data: {directory: " + dir + "}\npublicURL: http://127.0.0.1:9\n" +
		"listen: 127.0.0.1:0\ndatabases:\n  - {name: " + demo.CloudDB + ", driver: sqlite}\n" +
		"  - {name: CLOUD-PG01, driver: postgres, dsn: '" + dsn + "'}\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l := deploy.Layout{Dir: dir, Stores: gateway.Opener(ctx, c)}
	if err := demo.Seed(ctx, l, &deploy.Deployment{}); err != nil {
		t.Fatal(err)
	}
	eml := filepath.Join(t.TempDir(), "hello.eml")
	if err := os.WriteFile(eml, []byte("From: a@example.test\r\nTo: bob@contoso.test\r\n"+
		"Subject: imported into PostgreSQL\r\n\r\nHello.\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"CLOUD-PG01", demo.CloudDB} {
		code, stdout, stderr := runMove(t, "--config", path, "--grace", "10ms",
			"--user", "bob@contoso.test", "--to", to)
		if code != 0 || !strings.Contains(stdout, "to cloud/"+to) {
			t.Fatalf("move to %s: exit %d\nstdout %s\nstderr %s", to, code, stdout, stderr)
		}
		if to != "CLOUD-PG01" {
			continue
		}
		// On PostgreSQL, bob's mailbox is imported into through the
		// configuration; the data directory alone says to use it.
		out := cli(t, 1, "import", "--data", dir, "--user", "bob@contoso.test", eml)
		if !strings.Contains(out, "CLOUD-PG01, which the data directory does not hold: "+
			"import with --config") {
			t.Errorf("import --data into PostgreSQL: got %q", out)
		}
		out = cli(t, 0, "import", "--config", path, "--user", "bob@contoso.test", eml)
		if !strings.Contains(out, "imported 1, skipped 0") {
			t.Errorf("import --config: got %q, want one message imported", out)
		}
	}
}
