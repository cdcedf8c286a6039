package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
)

// BenchMailboxSize is the number of messages in each benchmarked mailbox.
const BenchMailboxSize = 10_000

// fillForBench imports corpus messages, repeated with a varied subject and
// Message-ID, until the mailbox of upn holds n messages.
func fillForBench(b *testing.B, p *deploy.Premises, upn string, n int) {
	b.Helper()
	ctx := context.Background()
	u, err := p.Directory.Lookup(ctx, upn)
	if err != nil {
		b.Fatal(err)
	}
	msgs, err := corpusMessages()
	if err != nil {
		b.Fatal(err)
	}
	for i := len(msgs) - 1; i < n; i++ {
		raw := varied(msgs[i%len(msgs)], i)
		if _, err := p.Engine.Import(ctx, u.Ref(), "inbox", raw); err != nil {
			continue // a corpus message the parser refuses; the next one fills its place
		}
	}
}

// varied gives a message a header block of its own so that copies differ.
func varied(raw []byte, i int) []byte {
	hdr := fmt.Sprintf("Message-ID: <bench-%d@contoso.test>\r\nX-Bench-Copy: %d\r\n", i, i)
	return append([]byte(hdr), raw...)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkList25 lists the 25 newest messages of a 10,000-message mailbox:
// a cloud mailbox; an on-prem mailbox through the gateway; the same on-prem
// mailbox called directly (the baseline); and through a stock
// httputil.ReverseProxy that only forwards (the anchor the gateway is
// measured against). Each is run with full messages and with a typical
// list $select. Requests run in parallel (32 per core) so that ns/op is the
// inverse of throughput; cpu-µs/op is the whole process's CPU (client,
// gateway, on-prem server) per request, so the gateway's own cost is the
// difference between its row and the direct row.
func BenchmarkList25(b *testing.B) {
	o := startOrg(b, Options{})
	fillForBench(b, o.sys.cloud, "alice@contoso.test", BenchMailboxSize)
	fillForBench(b, o.sys.prem, "carol@contoso.test", BenchMailboxSize)

	carol, err := o.sys.cloud.Directory.Lookup(context.Background(), "carol@contoso.test")
	if err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(o.d.OnPremURL)
	if err != nil {
		b.Fatal(err)
	}
	s2s, err := o.sys.issuer.S2SToken(carol.UPN, u.Hostname(), []string{"Mail.Read"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	stock := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: &http.Transport{MaxIdleConnsPerHost: 128},
	})
	defer stock.Close()

	alice, carolTok := o.token(b, "alice@contoso.test"), o.token(b, "carol@contoso.test")
	direct := "/api/v2.0/users('carol@contoso.test')/messages?$top=25"
	cases := []struct {
		name, url, token string
	}{
		{"cloud", o.d.CloudURL + "/v1.0/users/alice@contoso.test/messages?$top=25", alice},
		{"onprem-via-gateway", o.d.CloudURL + "/v1.0/users/carol@contoso.test/messages?$top=25",
			carolTok},
		{"onprem-direct", o.d.OnPremURL + direct, s2s},
		{"onprem-via-stock-proxy", stock.URL + direct, s2s},
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for _, shape := range []struct{ name, query string }{
		{"full", ""},
		{"select", "&$select=subject,from,receivedDateTime,isRead"},
	} {
		for _, c := range cases {
			b.Run(shape.name+"/"+c.name, func(b *testing.B) {
				benchGet(b, client, c.url+shape.query, c.token)
			})
		}
	}
}

func benchGet(b *testing.B, client *http.Client, url, token string) {
	b.ReportAllocs()
	b.SetParallelism(32)
	cpu0 := cpuTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || n < 500 {
				b.Errorf("got %d with %d bytes", resp.StatusCode, n)
				return
			}
		}
	})
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
