package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// productModule is the module path of the repository this module tests; TestMain looks
// for the go.mod that declares it to find the source of the binary.
const productModule = "github.com/hybridgraph/hybridgraph"

const (
	buildTimeout    = 10 * time.Minute // a cold build compiles SQLite (about 30 s alone)
	readyTimeout    = 60 * time.Second // both /healthz must answer 200 within this
	tokenTimeout    = 30 * time.Second
	shutdownTimeout = 15 * time.Second // after SIGINT, before the process is killed
	demoLogTail     = 200              // lines of demo output printed on failure
)

// tokenScope is the delegated scope set the tests ask for: read and send mail.
const tokenScope = "Mail.ReadWrite Mail.Send"

// The seeded organisation, as the `demo` subcommand promises it.
const (
	alice = "alice@contoso.test" // cloud mailbox
	carol = "carol@contoso.test" // on-premises mailbox (Exchange 2016)
)

// env is the running deployment shared by every test; TestMain sets it.
var env *deployment

// deployment is one running `hybridgraph demo` process and SDK clients bound to it.
type deployment struct {
	cloudAddr string                  // host:port of the cloud gateway
	clients   map[string]*graphClient // by UPN, each with that user's own token
}

// demoProcess is the started demo and where its output goes.
type demoProcess struct {
	cmd       *exec.Cmd
	cloudAddr string // host:port of the cloud gateway
	logPath   string
	exited    chan struct{} // closed when the process has been waited for
	waitErr   error         // valid once exited is closed
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run sets the deployment up, runs the tests and tears it down; it returns the exit code.
func run(m *testing.M) int {
	work, err := os.MkdirTemp("", "hybridgraph-conformance-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		return 1
	}
	defer os.RemoveAll(work)

	bin, err := buildProduct(work)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		return 1
	}
	demo, dataDir, err := startDemo(bin, work)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		return 1
	}

	code := 1
	if env, err = connect(bin, dataDir, demo.cloudAddr); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
	} else {
		code = m.Run()
	}

	if err := demo.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "conformance: demo did not shut down cleanly: %v\n", err)
		code = 1
	}
	if code != 0 {
		demo.printLog()
	}
	return code
}

// repositoryRoot walks up from the working directory (the package directory under
// `go test`) to the directory whose go.mod declares productModule.
func repositoryRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod"), productModule) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod declaring %s above the working directory",
				productModule)
		}
		dir = parent
	}
}

// declaresModule reports whether the go.mod at path declares module mod.
func declaresModule(path, mod string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == mod
		}
	}
	return false
}

// buildProduct compiles ./cmd/hybridgraph of the parent module into work.
func buildProduct(work string) (string, error) {
	root, err := repositoryRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(work, "hybridgraph")
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/hybridgraph")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hybridgraph in %s: %w\n%s", root, err, out)
	}
	return bin, nil
}

// freeLoopbackPorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
// All listeners stay open until every port is chosen, so the n ports differ; another
// process may still take one before the demo binds it, which is rare enough to accept.
func freeLoopbackPorts(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("reserve loopback port: %w", err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// startDemo starts `hybridgraph demo` with a fresh data directory and waits until both
// premises answer /healthz. On failure the demo is stopped and its output printed.
func startDemo(bin, work string) (*demoProcess, string, error) {
	addrs, err := freeLoopbackPorts(4)
	if err != nil {
		return nil, "", err
	}
	cloud, onprem, cloudSMTP, onpremSMTP := addrs[0], addrs[1], addrs[2], addrs[3]
	dataDir := filepath.Join(work, "data")
	logPath := filepath.Join(work, "demo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, "", fmt.Errorf("demo log: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	cmd := exec.Command(bin, "demo", "--data", dataDir,
		"--cloud-addr", cloud, "--onprem-addr", onprem,
		"--cloud-smtp-addr", cloudSMTP, "--onprem-smtp-addr", onpremSMTP)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start demo: %w", err)
	}
	demo := &demoProcess{
		cmd: cmd, cloudAddr: cloud, logPath: logPath, exited: make(chan struct{}),
	}
	go func() {
		demo.waitErr = cmd.Wait()
		close(demo.exited)
	}()

	if err := demo.waitHealthy(cloud, onprem); err != nil {
		demo.stop()
		demo.printLog()
		return nil, "", err
	}
	return demo, dataDir, nil
}

// waitHealthy polls GET /healthz on every address until each answers 200.
func (d *demoProcess) waitHealthy(addrs ...string) error {
	deadline := time.Now().Add(readyTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for _, addr := range addrs {
		url := "http://" + addr + "/healthz"
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			select {
			case <-d.exited:
				return fmt.Errorf("demo exited before %s was healthy: %v", url, d.waitErr)
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("GET %s not 200 after %v: %v", url, readyTimeout, err)
			}
		}
	}
	return nil
}

// stop asks the demo to shut down with SIGINT, as an operator's Ctrl-C would, and kills
// it if it has not exited within shutdownTimeout. Anything but a clean exit 0 is an error.
func (d *demoProcess) stop() error {
	select {
	case <-d.exited:
		return fmt.Errorf("exited before it was asked to: %v", d.waitErr)
	default:
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		return fmt.Errorf("send SIGINT: %w", err)
	}
	select {
	case <-d.exited:
		return d.waitErr
	case <-time.After(shutdownTimeout):
	}
	if err := d.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill after %v: %w", shutdownTimeout, err)
	}
	<-d.exited
	return fmt.Errorf("still running %v after SIGINT; killed", shutdownTimeout)
}

// printLog writes the last lines of the demo's output to stderr, for diagnosis.
func (d *demoProcess) printLog() {
	data, err := os.ReadFile(d.logPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: read demo log: %v\n", err)
		return
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > demoLogTail {
		lines = lines[len(lines)-demoLogTail:]
	}
	fmt.Fprintf(os.Stderr, "--- last %d lines of hybridgraph demo output ---\n%s\n---\n",
		len(lines), strings.Join(lines, "\n"))
}

// connect fetches a delegated token for each test user and builds their SDK clients.
func connect(bin, dataDir, cloudAddr string) (*deployment, error) {
	d := &deployment{cloudAddr: cloudAddr, clients: map[string]*graphClient{}}
	for _, upn := range []string{alice, carol} {
		token, err := issueToken(bin, dataDir, upn)
		if err != nil {
			return nil, err
		}
		c, err := newGraphClient(cloudAddr, token)
		if err != nil {
			return nil, fmt.Errorf("graph client for %s: %w", upn, err)
		}
		d.clients[upn] = c
	}
	return d, nil
}

// issueToken runs `hybridgraph token`, whose whole stdout is one access token and a
// newline.
func issueToken(bin, dataDir, upn string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "token", "--data", dataDir, "--user", upn,
		"--scope", tokenScope)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("token for %s: %w\n%s", upn, err, stderr.String())
	}
	token, ok := strings.CutSuffix(string(out), "\n")
	if !ok || token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("token for %s: got stdout %q, want one token and a newline",
			upn, truncate(string(out), 80))
	}
	return token, nil
}

// truncate shortens s to at most n bytes for error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
