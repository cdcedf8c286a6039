package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is an output that a running command and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemoCommand runs `hybridgraph demo` with args on loopback ports
// until the test ends, and waits for its banner.
func startDemoCommand(t *testing.T, dir string, args ...string) *lockedBuffer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	argv := append([]string{"demo", "--data", dir, "--cloud-addr", "127.0.0.1:0",
		"--onprem-addr", "127.0.0.1:0", "--cloud-smtp-addr", "127.0.0.1:0",
		"--onprem-smtp-addr", "127.0.0.1:0"}, args...)
	go func() { done <- run(ctx, argv, &out, &errOut) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo: exit status %d, stderr:\n%s", code, errOut.String())
		}
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if strings.Contains(out.String(), "hybridgraph demo is ready") {
			return &errOut
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo stopped with %d: %s", code, errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("demo printed no banner within 60s")
	return nil
}

// TestDemoSyncsAtStart checks that a fresh demo's on-prem server syncs its
// directory to the cloud at start, so that R3 passes without `sync`.
func TestDemoSyncsAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	logs := startDemoCommand(t, dir)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"check", "--data", dir, "--samples", "2"},
		&out, &errOut)
	if code != 2 {
		t.Errorf("check: exit status %d, want 2 (dave's 2013 database)", code)
	}
	for _, want := range []string{"R3     PASS",
		"2 of 2 on-prem mailboxes synced with a matching mailbox GUID"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check report lacks %q:\n%s", want, out.String())
		}
	}
	// One line per run on each side, each naming its component; the
	// seeded cloud entries are synced already, so the run changes nothing.
	for line, n := range map[string]int{
		`msg="directory sync" component=dirsync-agent added=0 updated=0 deleted=0 ` +
			`held=0 failed=0`: 1,
		`msg="directory sync applied" component=dirsync-intake added=0 updated=0`: 1,
		`msg="directory sync`: 2,
	} {
		if got := strings.Count(logs.String(), line); got != n {
			t.Errorf("demo log has %q %d times, want %d:\n%s", line, got, n, logs.String())
		}
	}
}

func TestDemoRefusesFlags(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"negative interval", []string{"--dirsync-interval", "-1m"}, "--dirsync-interval"},
		{"interval below the minimum", []string{"--dirsync-interval", "1ns"},
			"want 0 (off) or at least 1m0s"},
		{"LDAP source", []string{"--ldap", "ldap://127.0.0.1:1", "--ldap-base", "dc=x"},
			"only the mailboxes of its built-in directory"},
		{"LDAP flag without --ldap", []string{"--ldap-bind", "cn=sync"},
			"only the mailboxes of its built-in directory"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"public URL without scheme", []string{"--onprem-public-url", "mail.contoso.test"},
			"want http(s)://host[:port]"},
		{"public URL with a path", []string{"--onprem-public-url", "https://m.test/owa"},
			"want http(s)://host[:port]"},
		{"threshold 0", []string{"--delete-threshold", "0"}, "not a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"demo", "--data", t.TempDir()}, tt.args...)
			if code := run(context.Background(), args, &out, &errOut); code != 2 {
				t.Errorf("exit status: got %d, want 2", code)
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", errOut.String(), tt.stderr)
			}
		})
	}
}
