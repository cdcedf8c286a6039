package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/demo/corpus"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres/pgtest"
)

// Bench100kEnv turns BenchmarkGateway100k on (make bench-100k): it loads
// 100,000 messages into each backend, which takes minutes and a few GB of
// disk, so `make bench` and `make test` leave it out.
const Bench100kEnv = "HYBRIDGRAPH_BENCH_100K"

// benchSizeEnv overrides the number of messages, for a quick trial run.
const benchSizeEnv = "HYBRIDGRAPH_BENCH_MESSAGES"

// benchSize is the number of messages loaded into alice's inbox: 100,000
// unless benchSizeEnv says otherwise.
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv(benchSizeEnv)); err == nil && n >= 1000 {
		return n
	}
	return 100_000
}

// benchSelect is the $select of the list calls: what a mail client shows
// in a message list.
const benchSelect = "$select=subject,from,receivedDateTime,isRead,bodyPreview"

// BenchmarkGateway100k measures the cloud gateway, over HTTP as clients
// reach it, with a 100,000-message inbox on PostgreSQL and on SQLite: the
// 25 newest (in the inbox, and in the whole mailbox), a filtered list, a
// page 50,000 deep, a full-text $search and a PATCH. Messages are the
// corpus (internal/demo/corpus) repeated with their own Message-ID, date,
// subject, sender and importance. It prints each backend's ns/op, the
// PostgreSQL/SQLite ratio, the load time and the peak memory of the
// process (max RSS and Go heap), which holds the gateway: the PostgreSQL
// server's own memory is not in it.
func BenchmarkGateway100k(b *testing.B) {
	if os.Getenv(Bench100kEnv) == "" {
		b.Skip("set " + Bench100kEnv + "=1 to run (make bench-100k)")
	}
	if os.Getenv(pgtest.Env) == "" {
		b.Fatal(pgtest.Env + " is not set: the benchmark compares SQLite with PostgreSQL " +
			"and needs a PostgreSQL DSN whose user may create databases")
	}
	var reports []benchReport
	for _, backend := range []string{"postgres", "sqlite"} {
		b.Run(backend, func(b *testing.B) {
			dsn := ""
			if backend == "postgres" {
				dsn = pgtest.FreshDSN(b, "hgbench_")
			}
			reports = append(reports, bench100k(b, backend, dsn))
		})
	}
	printReports(os.Stdout, reports)
}

// benchReport is one backend's figures.
type benchReport struct {
	backend  string
	load     time.Duration
	nsPerOp  map[string]float64
	maxRSS   int64 // bytes
	heapPeak uint64
}

// bench100k loads and measures one backend.
func bench100k(b *testing.B, backend, dsn string) benchReport {
	resetPeakRSS()
	heap := sampleHeap()
	r := benchReport{backend: backend, nsPerOp: map[string]float64{}}

	c := benchConfig(b, dsn)
	ctx := context.Background()
	d := &deploy.Deployment{CloudURL: c.PublicURL, OnPremURL: "http://127.0.0.1:9",
		CloudSMTP: "127.0.0.1:9", OnPremSMTP: "127.0.0.1:9"}
	if err := demo.Seed(ctx, deploy.Layout{Dir: c.Data.Directory,
		Stores: gateway.Opener(ctx, c)}, d); err != nil {
		b.Fatalf("seed: %v", err)
	}
	start := time.Now()
	loadInbox(b, c, "alice@"+demo.Domain, benchSize())
	r.load = time.Since(start)

	ln, err := net.Listen("tcp", strings.TrimPrefix(c.PublicURL, "http://"))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := gateway.Start(ctx, c, gateway.Listeners{HTTP: ln}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	cl := benchClient{base: c.PublicURL + "/v1.0/me", tok: benchToken(b, srv, "alice@"+demo.Domain)}
	for _, op := range benchOps(b, &cl) {
		b.Run(op.name, func(b *testing.B) {
			for b.Loop() {
				op.call(b)
			}
			r.nsPerOp[op.name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
	}
	r.maxRSS, r.heapPeak = peakRSS(), heap()
	return r
}

// benchOp is one measured call.
type benchOp struct {
	name string
	call func(testing.TB)
}

// benchOps are the calls measured, checked once before they are timed.
func benchOps(b *testing.B, cl *benchClient) []benchOp {
	inbox := "/mailFolders/inbox/messages?$top=25&" + benchSelect
	newest := cl.get(b, inbox)
	ids := bytesBetween(newest, `"id":"`, `"`)
	if len(ids) != 25 {
		b.Fatalf("the 25 newest: got %d ids", len(ids))
	}
	flip := 0
	deep := "&$skip=" + strconv.Itoa(benchSize()/2) // 50,000 for 100,000 messages
	ops := []benchOp{
		{"list25newest", func(tb testing.TB) { cl.get(tb, inbox) }},
		// The same without a folder: the difference is the folder lookup,
		// which counts the folder's items (totalItemCount, unreadItemCount).
		{"list25newestMailbox", func(tb testing.TB) {
			cl.get(tb, "/messages?$top=25&"+benchSelect)
		}},
		{"filteredList", func(tb testing.TB) {
			cl.get(tb, "/mailFolders/inbox/messages?$top=25&$filter=importance%20eq%20'high'&"+
				benchSelect)
		}},
		{"deepPage", func(tb testing.TB) { cl.get(tb, inbox+deep) }},
		{"search", func(tb testing.TB) {
			cl.get(tb, `/messages?$search=%22invoice%22&$top=25&`+benchSelect)
		}},
		{"patchIsRead", func(tb testing.TB) {
			flip++
			body := fmt.Sprintf(`{"isRead":%t}`, flip%2 == 1)
			cl.do(tb, http.MethodPatch, "/messages/"+ids[flip%len(ids)], body)
		}},
	}
	for _, op := range ops[1:5] {
		op.call(b) // each answers 200 before it is timed
	}
	if n := len(bytesBetween(cl.get(b, `/messages?$search=%22invoice%22&$top=25&`+
		benchSelect), `"id":"`, `"`)); n != 25 {
		b.Fatalf("search: got %d results, want a full page of 25", n)
	}
	return ops
}

// benchClient calls the gateway as alice.
type benchClient struct {
	base, tok string
	http      http.Client
}

func (c *benchClient) get(tb testing.TB, path string) []byte {
	return c.do(tb, http.MethodGet, path, "")
}

func (c *benchClient) do(tb testing.TB, method, path, body string) []byte {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s %s: %d %v %.300s", method, path, resp.StatusCode, err, raw)
	}
	return raw
}

// bytesBetween returns every string of b found between open and close.
func bytesBetween(b []byte, open, close string) []string {
	var out []string
	for s := string(b); ; {
		i := strings.Index(s, open)
		if i < 0 {
			return out
		}
		s = s[i+len(open):]
		j := strings.Index(s, close)
		if j < 0 {
			return out
		}
		out, s = append(out, s[:j]), s[j:]
	}
}

// benchConfig is a gateway configuration over a fresh data directory, with
// CLOUD-DB01 on PostgreSQL when dsn is set and on SQLite otherwise.
func benchConfig(b *testing.B, dsn string) *config.Config {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	ln.Close() // the gateway listens there once the load is done
	db := "  - name: " + demo.CloudDB + "\n    driver: sqlite\n"
	if dsn != "" {
		db = "  - name: " + demo.CloudDB + "\n    driver: postgres\n    dsn: " + dsn + "\n"
	}
	y := fmt.Sprintf("data:\n  directory: %s\npublicURL: %s\nlisten: 127.0.0.1:0\n"+
		"databases:\n%ssmtp:\n  listen: 127.0.0.1:0\n", b.TempDir(), public, db)
	path := filepath.Join(b.TempDir(), "serve.yaml")
	if err := os.WriteFile(path, []byte(y), 0o600); err != nil {
		b.Fatal(err)
	}
	c, err := config.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchToken mints a delegated token for upn.
func benchToken(b *testing.B, srv *gateway.Server, upn string) string {
	u, err := srv.Directory().Lookup(context.Background(), upn)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := srv.Issuer().DelegatedToken(auth.User{ObjectID: u.ObjectID, UPN: u.UPN,
		DisplayName: u.DisplayName}, []string{"Mail.ReadWrite"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

// loadInbox imports n corpus copies into upn's inbox through the engine,
// 1,000 a transaction.
func loadInbox(b *testing.B, c *config.Config, upn string, n int) {
	ctx := context.Background()
	l := deploy.Layout{Dir: c.Data.Directory, Stores: gateway.Opener(ctx, c)}
	p, err := l.Open(directory.Cloud, []string{demo.CloudDB})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	u, err := p.Directory.Lookup(ctx, upn)
	if err != nil {
		b.Fatal(err)
	}
	// Keep the corpus messages the importer takes once rewritten; a few
	// break the rules beyond what it accepts.
	var base [][]byte
	for _, raw := range corpusMail(b) {
		if _, err := p.Engine.Import(ctx, u.Ref(), "archive", benchMessage(raw, -1)); err == nil {
			base = append(base, raw)
		}
	}
	// Two loaders: while one's transaction commits, the other parses.
	const batch, loaders = 1000, 2
	next := make(chan int)
	errs := make(chan error, loaders)
	for range loaders {
		go func() {
			for i := range next {
				raws := make([][]byte, 0, batch)
				for j := i; j < min(i+batch, n); j++ {
					raws = append(raws, benchMessage(base[j%len(base)], j))
				}
				if _, err := p.Engine.ImportBatch(ctx, u.Ref(), "inbox", raws); err != nil {
					errs <- fmt.Errorf("import %d: %w", i, err)
					for range next { // drain, so that the sender ends
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for i := 0; i < n; i += batch {
		next <- i
	}
	close(next)
	for range loaders {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

func corpusMail(b *testing.B) [][]byte {
	names, err := fs.Glob(corpus.Mail, "mail/*.eml")
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		raw, err := fs.ReadFile(corpus.Mail, n)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// benchWords start the subjects: "invoice", one of 50, is in 2% of them.
var benchWords = strings.Fields(`invoice agenda budget roadmap lunch offsite review
	release incident report minutes contract renewal onboarding travel expenses hiring
	quarterly forecast migration security audit training newsletter survey webinar
	proposal feedback outage maintenance launch pricing partner customer support ticket
	escalation backlog sprint retrospective demo deadline payroll benefits holiday
	policy compliance license inventory shipment order delivery warranty`)

// rewritten are the fields benchMessage replaces.
var rewritten = map[string]bool{"from": true, "sender": true, "subject": true, "date": true,
	"message-id": true, "received": true, "importance": true, "x-priority": true,
	"x-msmail-priority": true}

// benchMessage is copy i of raw with its own sender, subject, date,
// Message-ID and, for one in 20, high importance; i < 0 is a check copy.
func benchMessage(raw []byte, i int) []byte {
	eol := "\r\n"
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if lf := bytes.Index(raw, []byte("\n\n")); end < 0 || lf >= 0 && lf < end {
		eol, end = "\n", lf
	}
	var out bytes.Buffer
	k := max(i, 0)
	date := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(k) * 13 * time.Minute)
	fmt.Fprintf(&out, "From: Sender %d <sender%d@fabrikam%d.test>%s", k%200, k%200, k%7, eol)
	fmt.Fprintf(&out, "Subject: %s update #%d%s", benchWords[k%len(benchWords)], k, eol)
	fmt.Fprintf(&out, "Date: %s%sMessage-ID: <bench-%d@contoso.test>%s",
		date.Format(time.RFC1123Z), eol, i, eol)
	if k%20 == 0 {
		out.WriteString("Importance: high" + eol)
	}
	skipping := false
	for _, line := range strings.SplitAfter(string(raw[:max(end, 0)]), "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			if !skipping {
				out.WriteString(line)
			}
			continue
		}
		name, _, _ := strings.Cut(line, ":")
		skipping = rewritten[strings.ToLower(strings.TrimSpace(name))]
		if !skipping {
			out.WriteString(line)
		}
	}
	out.Write(raw[max(end, 0):])
	return out.Bytes()
}

// resetPeakRSS resets the kernel's peak resident set of this process
// (Linux, proc(5) clear_refs "5"), so that each backend's peak is its own.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is the process's peak resident set since resetPeakRSS, in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// sampleHeap samples the live Go heap every 10 ms until the returned
// function is called, which returns the largest sample.
func sampleHeap() func() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var (
		mu   sync.Mutex
		peak uint64
	)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			mu.Lock()
			peak = max(peak, s[0].Value.Uint64())
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// printReports writes the figures of both backends and their ratio.
func printReports(w io.Writer, rs []benchReport) {
	if len(rs) != 2 {
		return
	}
	pg, lite := rs[0], rs[1]
	fmt.Fprintf(w, "\n%-20s %14s %14s %9s\n", fmt.Sprintf("%d messages", benchSize()),
		"postgres", "sqlite", "pg/sqlite")
	names := make([]string, 0, len(pg.nsPerOp))
	for name := range pg.nsPerOp {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "%-20s %11.0f ns %11.0f ns %9.2f\n", name, pg.nsPerOp[name],
			lite.nsPerOp[name], pg.nsPerOp[name]/lite.nsPerOp[name])
	}
	fmt.Fprintf(w, "%-20s %14s %14s %9.2f\n", "load", pg.load.Round(time.Millisecond),
		lite.load.Round(time.Millisecond), pg.load.Seconds()/lite.load.Seconds())
	fmt.Fprintf(w, "%-20s %11d MB %11d MB\n", "max RSS", pg.maxRSS>>20, lite.maxRSS>>20)
	fmt.Fprintf(w, "%-20s %11d MB %11d MB\n", "Go heap peak", pg.heapPeak>>20, lite.heapPeak>>20)
}
