package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/readiness"
)

// runDemoFor starts the demo on dir for the test.
func runDemoFor(t *testing.T, dir string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- demo.Run(ctx, demo.Options{Data: dir, CloudAddr: "127.0.0.1:0",
			OnPremAddr: "127.0.0.1:0", CloudSMTPAddr: "127.0.0.1:0", OnPremSMTP: "127.0.0.1:0",
			Out: io.Discard, Log: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if d, err := (deploy.Layout{Dir: dir}).Load(); err == nil {
			if resp, err := http.Get(d.OnPremURL + "/healthz"); err == nil {
				resp.Body.Close()
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("demo did not start within 30s")
}

func TestCheckDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	runDemoFor(t, dir)
	saved := filepath.Join(t.TempDir(), "collection.json")
	ctx := context.Background()

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"check", "--data", dir, "--samples", "3", "--save", saved},
		&out, &errOut)
	if code != 2 {
		t.Errorf("exit status: got %d, want 2 (stderr %q)", code, errOut.String())
	}
	const dave = "dave@contoso.test: database EX2013-DB01 on EX2013-01"
	if !strings.Contains(out.String(), dave) {
		t.Errorf("report does not name dave's 2013 database:\n%s", out.String())
	}

	var again bytes.Buffer
	if code := run(ctx, []string{"check", "--from", saved}, &again, &errOut); code != 2 {
		t.Errorf("--from: exit status %d, want 2", code)
	}
	if again.String() != out.String() {
		t.Errorf("--from report differs:\n%s\nwant:\n%s", again.String(), out.String())
	}

	var js bytes.Buffer
	run(ctx, []string{"check", "--from", saved, "--json"}, &js, &errOut)
	var rep readiness.Report
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, js.String())
	}
	if len(rep.Results) != 7 || rep.Results[0].ID != "R1" || rep.Results[0].Status != "FAIL" {
		t.Errorf("--json: got %+v, want 7 results starting with R1 FAIL", rep.Results)
	}
}

func TestCheckFlagsValidate(t *testing.T) {
	tests := []struct {
		name string
		f    checkFlags
		ok   bool
	}{
		{"defaults", checkFlags{samples: 20}, true},
		{"no samples", checkFlags{samples: 0}, false},
		{"too many samples", checkFlags{samples: 1_000_000}, false},
		{"save and from", checkFlags{samples: 20, save: "a", from: "b"}, false},
		{"resolver without port", checkFlags{samples: 20, resolver: "notahost"}, false},
		{"resolver", checkFlags{samples: 20, resolver: "127.0.0.1:53"}, true},
	}
	for _, tt := range tests {
		if err := tt.f.validate(); (err == nil) != tt.ok {
			t.Errorf("%s: validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
