package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
)

// TestServeRefuses checks serve's command-line and configuration failures
// reach the user with the failing field named, before anything listens.
func TestServeRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	y := "data: {directory: d}\npublicURL: http://x\nlisten: 127.0.0.1:0\n" +
		"databases:\n  - {name: A, driver: sqlite}\n  - {name: B, driver: postgres}\n"
	if err := os.WriteFile(bad, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no config", []string{"serve"}, 2, "--config is required"},
		{"missing file", []string{"serve", "--config", bad + ".none"}, 1, "read config"},
		{"invalid file", []string{"serve", "--config", bad}, 1, "databases[1].dsn: required"},
		{"no deployment", []string{"serve", "--config", good(t)}, 1, "no deployment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code: got %d, want %d", code, tt.code)
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr.String(), tt.stderr)
			}
		})
	}
}

// good writes a valid configuration over an empty data directory.
func good(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "serve.yaml")
	y := "data: {directory: " + t.TempDir() + "}\npublicURL: http://x\n" +
		"listen: 127.0.0.1:0\ndatabases:\n  - {name: A, driver: sqlite}\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeRuns runs the serve command over a seeded data directory until
// its context ends, and checks it answers health checks and issues tokens.
func TestServeRuns(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // the command listens itself; the port was free a moment ago
	path := filepath.Join(t.TempDir(), "serve.yaml")
	y := "data: {directory: " + dir + "}\npublicURL: http://" + addr + "\nlisten: " + addr +
		"\ndatabases:\n  - {name: " + demo.CloudDB + ", driver: sqlite}\n"
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &deploy.Deployment{CloudURL: "http://" + addr, OnPremURL: "http://127.0.0.1:9",
		CloudSMTP: "127.0.0.1:9", OnPremSMTP: "127.0.0.1:9"}
	if err := demo.Seed(context.Background(), deploy.Layout{Dir: dir}, d); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stdout, stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "--config", path, "--log-level", "error"},
			&stdout, &stderr)
	}()
	waitHealthy(t, "http://"+addr+"/healthz", done)
	// Its SQLite database is one process's: a second serve, or a demo, on
	// the same data directory is refused while it runs.
	var out2, err2 bytes.Buffer
	if code := run(ctx, []string{"serve", "--config", path}, &out2, &err2); code != 1 ||
		!strings.Contains(err2.String(), "database "+demo.CloudDB+" is SQLite") ||
		!strings.Contains(err2.String(), "in use by another hybridgraph server") {
		t.Errorf("second serve: exit %d, stderr %q; want 1 and the data directory in use",
			code, err2.String())
	}
	err2.Reset()
	if code := run(ctx, []string{"demo", "--data", dir, "--cloud-addr", "127.0.0.1:0",
		"--onprem-addr", "127.0.0.1:0", "--cloud-smtp-addr", "127.0.0.1:0",
		"--onprem-smtp-addr", "127.0.0.1:0"}, &out2, &err2); code != 1 ||
		!strings.Contains(err2.String(), "in use") {
		t.Errorf("demo beside serve: exit %d, stderr %q; want 1 and in use", code,
			err2.String())
	}
	resp, err := http.Get("http://" + addr + "/" + d.TenantID +
		"/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("openid-configuration: got status %d, want 200", resp.StatusCode)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: got exit code %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "http://"+addr+"/v1.0") {
		t.Errorf("serve banner: got %q, want the Graph URL", stdout.String())
	}
}

func waitHealthy(t *testing.T, url string, done chan int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		select {
		case code := <-done:
			t.Fatalf("serve ended early with exit code %d", code)
		default:
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not healthy within 20s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
