package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
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
	var rep struct {
		readiness.Report
		Verdict    readiness.Status `json:"verdict"`
		ExitStatus int              `json:"exitStatus"`
	}
	code = run(ctx, []string{"check", "--from", saved, "--json"}, &js, &errOut)
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, js.String())
	}
	if len(rep.Results) != 7 || rep.Results[0].ID != "R1" || rep.Results[0].Status != "FAIL" {
		t.Errorf("--json: got %+v, want 7 results starting with R1 FAIL", rep.Results)
	}
	if rep.Verdict != readiness.Fail || rep.ExitStatus != code {
		t.Errorf("--json: verdict %s, exitStatus %d; want FAIL and the exit status %d",
			rep.Verdict, rep.ExitStatus, code)
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

// TestCheckFromRefusesIncomplete checks that --from refuses a file that is
// not a whole saved collection instead of reporting on nothing.
func TestCheckFromRefusesIncomplete(t *testing.T) {
	for _, tc := range []struct{ name, body, stderr string }{
		{"empty object", `{}`, "not a complete collection: missing"},
		{"null", `null`, "not a saved collection: null"},
		{"empty url", `{"url":""}`, "missing"},
		{"not json", `hello`, "not a saved collection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.json")
			if err := os.WriteFile(path, []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"check", "--from", path}, &out, &errOut)
			if code != checkExitError || out.Len() != 0 {
				t.Errorf("got exit status %d and report %q, want %d and none", code,
					out.String(), checkExitError)
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr: got %q, want it to contain %q", errOut.String(), tc.stderr)
			}
		})
	}
}

// writeServeConfig writes a serve configuration for the demo on dir, with
// the given connectors' YAML.
func writeServeConfig(t *testing.T, dir, connectors string) string {
	t.Helper()
	d, err := deploy.Layout{Dir: dir}.Load()
	if err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf("data: {directory: %s}\npublicURL: %s\nlisten: 127.0.0.1:0\n"+
		"databases:\n  - {name: CLOUD-DB01, driver: sqlite}\nconnectors:\n%s",
		dir, d.CloudURL, strings.ReplaceAll(connectors, "ONPREM", d.OnPremURL))
	path := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	onPremConnector = "  - {name: OnPremisesConnector, targetAddressDomains: [contoso.test]," +
		" discoveryEndpoint: ONPREM/autodiscover/autodiscover.svc, enabled: true}\n"
	otherConnector = "  - {name: Fabrikam, targetAddressDomains: [fabrikam.test]," +
		" discoveryEndpoint: http://127.0.0.1:9/autodiscover/autodiscover.svc, enabled: true}\n"
	disabledConnector = "  - {name: Old, targetAddressDomains: [old.test]," +
		" discoveryEndpoint: http://127.0.0.1:9/autodiscover/autodiscover.svc, enabled: false}\n"
)

// TestCheckConfig checks the deployment a serve configuration describes:
// the on-prem server behind its connector, and R3 read from its public URL.
func TestCheckConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	dir := t.TempDir()
	startDemoCommand(t, dir)
	d, err := deploy.Layout{Dir: dir}.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	one := writeServeConfig(t, dir, onPremConnector+disabledConnector)
	two := writeServeConfig(t, dir, onPremConnector+otherConnector)

	var out, errOut bytes.Buffer
	code := run(ctx, []string{"check", "--config", one, "--samples", "2", "--json"},
		&out, &errOut)
	var rep struct {
		URL     string             `json:"url"`
		Verdict string             `json:"verdict"`
		Results []readiness.Result `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s\nstderr %s", err, out.String(), errOut.String())
	}
	if code != 2 || rep.Verdict != "FAIL" || rep.URL != d.OnPremURL {
		t.Errorf("got exit %d, verdict %s, URL %s; want 2, FAIL, %s", code, rep.Verdict,
			rep.URL, d.OnPremURL)
	}
	wantStatus := map[string]string{"R1": "FAIL", "R3": "PASS", "OAuth": "PASS"}
	for _, r := range rep.Results {
		if want := wantStatus[r.ID]; want != "" && string(r.Status) != want {
			t.Errorf("%s: got %s, want %s (%v)", r.ID, r.Status, want, r.Evidence)
		}
	}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"two enabled", []string{"--config", two}, 3, "2 enabled connectors " +
			"(OnPremisesConnector, Fabrikam): name one with --connector"},
		{"disabled", []string{"--config", one, "--connector", "Old"}, 3,
			`connector "Old" is disabled`},
		{"unknown", []string{"--config", one, "--connector", "Nope"}, 3, `no connector "Nope"`},
		{"with data", []string{"--config", one, "--data", dir}, 64, "exclude each other"},
		{"with from", []string{"--config", one, "--from", one}, 64, "exclude each other"},
		{"connector alone", []string{"--connector", "Old"}, 64, "--connector needs --config"},
		{"stray", []string{"--config", one, "now"}, 64, `unexpected argument "now"`},
		{"unknown mailbox", []string{"--config", one, "--samples", "1", "--user",
			"nobody@contoso.test"}, 3, "mailbox nobody@contoso.test is in neither the cloud " +
			"directory nor the on-prem topology"},
		{"cloud mailbox", []string{"--config", one, "--samples", "1", "--user",
			"alice@contoso.test"}, 3, "mailbox alice@contoso.test is in the cloud, " +
			"not on premises"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(ctx, append([]string{"check"}, tc.args...), &out, &errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("got exit %d, stderr %q; want %d, %q", code, errOut.String(),
					tc.code, tc.stderr)
			}
		})
	}
	var named bytes.Buffer
	code = run(ctx, []string{"check", "--config", two, "--connector", "OnPremisesConnector",
		"--samples", "1"}, &named, &errOut)
	if code != 2 || !strings.Contains(named.String(), "dave@contoso.test: database EX2013") {
		t.Errorf("--connector OnPremisesConnector: exit %d, report:\n%s", code, named.String())
	}
}

// TestCheckExitStatus checks that check's exit statuses keep its verdicts
// (0, 1, 2) apart from a check that could not run (3) and from usage
// errors (64), for every way a command line or its inputs can be wrong.
func TestCheckExitStatus(t *testing.T) {
	tmp := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(tmp, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	notJSON := write("not.json", "hello")
	badYAML := write("bad.yaml", "data: [unclosed\n")
	missing := filepath.Join(tmp, "missing")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"help", []string{"-h"}, 0, "Exit status: 0 every check passed"},
		{"from missing file", []string{"--from", missing}, 3, "read collection"},
		{"from not json", []string{"--from", notJSON}, 3, "not a saved collection"},
		{"missing data", []string{"--data", missing}, 3, "hybridgraph check: "},
		{"missing config", []string{"--config", missing}, 3, "hybridgraph check: "},
		{"bad config", []string{"--config", badYAML}, 3, "hybridgraph check: "},
		{"url not a URL", []string{"--url", "notaurl"}, 64, `--url "notaurl": want an http`},
		{"url without host", []string{"--url", "https://"}, 64, "names no host"},
		{"autodiscover url", []string{"--autodiscover-url", "ftp://x"}, 64,
			"--autodiscover-url"},
		{"no samples", []string{"--samples", "0"}, 64, "--samples 0: want 1 to 1000"},
		{"resolver without port", []string{"--resolver", "127.0.0.1"}, 64,
			`--resolver "127.0.0.1": want host:port`},
		{"unknown flag", []string{"--bogus"}, 64, "flag provided but not defined: -bogus"},
		{"bad flag value", []string{"--samples", "many"}, 64, "invalid value"},
		{"stray argument", []string{"now"}, 64, `unexpected argument "now"`},
		{"user not an address", []string{"--user", "notanaddress"}, 64,
			`--user "notanaddress": want a mailbox address`},
		{"user with a name", []string{"--user", "Carol <carol@contoso.test>"}, 64,
			"want a mailbox address"},
		{"from with url", []string{"--from", notJSON, "--url", "https://x"}, 64,
			"--from and --url exclude each other"},
		{"from with user", []string{"--from", notJSON, "--user", "a@b.test"}, 64,
			"--from and --user exclude each other"},
		{"from with samples", []string{"--from", notJSON, "--samples", "5"}, 64,
			"--from and --samples exclude each other"},
		{"from with data", []string{"--from", notJSON, "--data", missing}, 64,
			"--from and --data exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"check"}, tc.args...), &out,
				&errOut)
			if code != tc.code || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("got exit %d, stderr %q; want %d, %q", code, errOut.String(),
					tc.code, tc.stderr)
			}
			if out.Len() != 0 {
				t.Errorf("got a report %q, want none", out.String())
			}
		})
	}
}
