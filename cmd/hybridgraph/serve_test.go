package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
