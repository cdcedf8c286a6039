package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hybridgraph/hybridgraph/internal/demo"
	"github.com/hybridgraph/hybridgraph/internal/mailflow"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres"
)

// TestTwoGateways runs two gateways over one PostgreSQL database behind
// one public URL, as behind a load balancer: what one writes the other
// reads at once, a paging link or delta link issued by one works on the
// other, and mail both queues could send leaves once.
func TestTwoGateways(t *testing.T) {
	dsn := postgresDSN(t)
	sink := newSink(t)
	lnA, lnB := listen(t), listen(t)
	public := "http://" + lnA.Addr().String()
	c := configFor(t, t.TempDir(), public, dsn, sink.addr)
	d := seeded(t, c)
	// Mail queued before the gateways start: both queues find it due at
	// their first pass.
	const preloaded = 150
	early := fmt.Sprintf("preloaded %d #", time.Now().UnixNano())
	enqueue(t, openStore(t, dsn), early, preloaded)
	a, stopA := startStoppable(t, c, lnA)
	b, stopB := startStoppable(t, c, lnB)
	graphA, graphB := public+"/v1.0", "http://"+lnB.Addr().String()+"/v1.0"
	alice := "alice@" + d.Domain
	tokA, tokB := token(t, a, alice), token(t, b, alice)

	t.Run("write on one, read on the other", func(t *testing.T) {
		subject := fmt.Sprintf("two gateways %d", time.Now().UnixNano())
		r := call(t, "POST", graphA+"/me/messages", tokA,
			map[string]any{"subject": subject}).want(t, "create on A", 201)
		id, _ := r.body["id"].(string)
		got := call(t, "GET", graphB+"/me/messages/"+id, tokB, nil).want(t, "get on B", 200)
		if got.body["subject"] != subject {
			t.Errorf("subject on B: got %v, want %q", got.body["subject"], subject)
		}
		call(t, "PATCH", graphB+"/me/messages/"+id, tokB,
			map[string]any{"subject": subject + " edited"}).want(t, "update on B", 200)
		got = call(t, "GET", graphA+"/me/messages/"+id, tokA, nil).want(t, "get on A", 200)
		if got.body["subject"] != subject+" edited" {
			t.Errorf("subject on A: got %v, want %q", got.body["subject"], subject+" edited")
		}
	})

	t.Run("nextLink from one on the other", func(t *testing.T) {
		inbox := "/me/mailFolders/inbox/messages?$top=3&$select=subject"
		first := call(t, "GET", graphA+inbox, tokA, nil).want(t, "page 1 on A", 200)
		next, _ := first.body["@odata.nextLink"].(string)
		if !strings.HasPrefix(next, graphA) {
			t.Fatalf("nextLink: got %q, want it under %s", next, graphA)
		}
		onB := call(t, "GET", graphB+strings.TrimPrefix(next, graphA), tokB, nil).
			want(t, "page 2 on B", 200)
		onA := call(t, "GET", next, tokA, nil).want(t, "page 2 on A", 200)
		if got, want := string(onB.raw), string(onA.raw); got != want {
			t.Errorf("page 2: on B got\n%s\nwant as on A\n%s", got, want)
		}
	})

	t.Run("delta links from one on the other", func(t *testing.T) {
		// The first round, two messages a page, alternates gateways page
		// by page; the next round, after a write on A, is read on B.
		// Links name the public URL; B is reached at its own address.
		onB := func(link string) string { return graphB + strings.TrimPrefix(link, graphA) }
		link := graphA + "/me/mailFolders/inbox/messages/delta?$select=subject"
		seen, pages := 0, 0
		for ; ; pages++ {
			url, tok := link, tokA
			if pages%2 == 1 {
				url, tok = onB(link), tokB
			}
			r := getPrefer(t, url, tok, "odata.maxpagesize=2")
			seen += len(r.values(t))
			next, ok := r.body["@odata.nextLink"].(string)
			if !ok {
				link, _ = r.body["@odata.deltaLink"].(string)
				break
			}
			link = next
		}
		if pages < 2 || !strings.Contains(link, "$deltatoken=") {
			t.Fatalf("first round: %d pages, %d messages, deltaLink %q; want pages on both",
				pages+1, seen, link)
		}
		subject := fmt.Sprintf("delta across gateways %d", time.Now().UnixNano())
		call(t, "POST", graphA+"/me/mailFolders/inbox/messages", tokA,
			map[string]any{"subject": subject}).want(t, "create on A", 201)
		r := call(t, "GET", onB(link), tokB, nil).want(t, "next round on B", 200)
		v := r.values(t)
		if len(v) != 1 || v[0].(map[string]any)["subject"] != subject {
			t.Errorf("next round on B: got %s, want only %q", r.raw, subject)
		}
		if _, ok := r.body["@odata.deltaLink"].(string); !ok {
			t.Errorf("next round on B: no deltaLink in %s", r.raw)
		}
	})

	// Last: it stops both gateways.
	t.Run("queued mail leaves once", func(t *testing.T) {
		const n = 10
		prefix := fmt.Sprintf("queued %d #", time.Now().UnixNano())
		for i := range n {
			graph, tok := graphA, tokA
			if i%2 == 1 {
				graph, tok = graphB, tokB
			}
			call(t, "POST", graph+"/me/sendMail", tok, map[string]any{"message": map[string]any{
				"subject": fmt.Sprintf("%s%d", prefix, i),
				"toRecipients": []any{map[string]any{
					"emailAddress": map[string]any{"address": "carol@" + demo.Domain}}},
			}}).want(t, "sendMail", http.StatusAccepted)
		}
		sink.waitFor(t, prefix, n)
		sink.waitFor(t, early, preloaded)
		// Stopping waits for both queues' workers, so a second copy on its
		// way would have arrived: the counts below are final.
		stopA()
		stopB()
		sink.wantOnce(t, prefix, n)
		sink.wantOnce(t, early, preloaded)
		if left := stillQueued(t, openStore(t, dsn)); len(left) > 0 {
			t.Errorf("still queued after delivery: %v", left)
		}
	})
}

// TestQueuesClaimAtOnce runs the mail queues of two gateways over one
// PostgreSQL database, each on its own connection pool as two processes
// are, and releases both at the same moment onto a filled queue, round
// after round: every message must reach the smart host exactly once, and
// none may stay queued (a claim nobody settles). A claim whose worker died
// holds its messages back until the lease ends, then the other delivers
// them.
func TestQueuesClaimAtOnce(t *testing.T) {
	dsn := postgresDSN(t)
	sink := newSink(t)
	ctx := context.Background()
	stores := []store.Store{openStore(t, dsn), openStore(t, dsn)}
	queueOn := func(s store.Store, now func() time.Time) *mailflow.Queue {
		return mailflow.NewQueue(map[string]store.Store{demo.CloudDB: s}, sink.addr,
			mailflow.WithLogger(slog.New(slog.DiscardHandler)), mailflow.WithClock(now))
	}

	const rounds, perRound = 6, 250
	var delivered [2]int
	for r := range rounds {
		prefix := fmt.Sprintf("round %d #", r)
		enqueue(t, stores[0], prefix, perRound)
		release := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			q := queueOn(s, time.Now)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-release
				// A pass that finds nothing due ends the worker: the other
				// holds the rest, or nothing is left.
				for n := q.Flush(ctx); n > 0; n = q.Flush(ctx) {
					delivered[i] += n
				}
			}()
		}
		close(release)
		wg.Wait()
		sink.wantOnce(t, prefix, perRound)
	}
	t.Logf("delivered by each queue: %v", delivered)
	if delivered[0] == 0 || delivered[1] == 0 {
		t.Errorf("delivered by each queue: %v; want both to have claimed some", delivered)
	}
	if left := stillQueued(t, stores[0]); len(left) > 0 {
		t.Errorf("still queued after delivery: %v", left)
	}

	t.Run("lease of a dead worker", func(t *testing.T) {
		enqueue(t, stores[0], "orphan #", 5)
		now := time.Now()
		if due, err := stores[0].Due(ctx, now, 100); err != nil || len(due) != 5 {
			t.Fatalf("claim: got %d messages, %v; want 5", len(due), err)
		}
		for _, tt := range []struct {
			after time.Duration
			want  int
		}{{time.Minute, 0}, {postgres.ClaimLease + time.Second, 5}} {
			at := now.Add(tt.after)
			if got := queueOn(stores[1], func() time.Time { return at }).Flush(ctx); got != tt.want {
				t.Errorf("other queue %v after the claim: delivered %d, want %d",
					tt.after, got, tt.want)
			}
		}
		sink.wantOnce(t, "orphan #", 5)
	})
}

// openStore opens the mailbox database at dsn, as one more gateway would,
// until the test ends.
func openStore(t *testing.T, dsn string) store.Store {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// enqueue queues n messages from alice to carol, subjects prefix0 to
// prefix(n-1), due now.
func enqueue(t *testing.T, s store.Store, prefix string, n int) {
	t.Helper()
	for i := range n {
		subject := fmt.Sprintf("%s%d", prefix, i)
		raw := "From: alice@" + demo.Domain + "\r\nTo: carol@" + demo.Domain +
			"\r\nSubject: " + subject + "\r\n\r\nqueued directly\r\n"
		m := store.Outbound{ID: uuid.NewString(), From: "alice@" + demo.Domain,
			Recipients: []string{"carol@" + demo.Domain}, MIME: []byte(raw)}
		if err := s.Enqueue(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// stillQueued returns the ids of s's queued messages, claimed or not: it
// asks for those due after any claim's lease has run out.
func stillQueued(t *testing.T, s store.Store) []string {
	t.Helper()
	due, err := s.Due(context.Background(), time.Now().Add(2*postgres.ClaimLease), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(due))
	for i, m := range due {
		ids[i] = m.ID
	}
	return ids
}

// getPrefer sends a Graph GET with a Prefer header and wants 200.
func getPrefer(t *testing.T, url, tok, prefer string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Prefer", prefer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode}
	if r.raw, err = io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(r.raw, &r.body); err != nil || r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, r.status, r.raw)
	}
	return r
}

// sink is an SMTP smart host that counts the messages it receives.
type sink struct {
	addr     string
	mu       sync.Mutex
	received []string
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	ln := listen(t)
	s.addr = ln.Addr().String()
	srv := mailflow.NewServer(s.addr,
		func(_ context.Context, _ string, raw []byte) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.received = append(s.received, string(raw))
			return nil
		},
		func(context.Context, string) bool { return true })
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return s
}

// count is how many received messages carry subject as a whole line.
func (s *sink) count(subject string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, raw := range s.received {
		if strings.Contains(raw, "Subject: "+subject+"\r\n") {
			n++
		}
	}
	return n
}

// wantOnce checks that each of the messages prefix0 to prefix(n-1)
// arrived exactly once.
func (s *sink) wantOnce(t *testing.T, prefix string, n int) {
	t.Helper()
	wrong := 0
	for i := range n {
		subject := fmt.Sprintf("%s%d", prefix, i)
		if got := s.count(subject); got != 1 {
			wrong++
			if wrong <= 5 {
				t.Errorf("%q reached the smart host %d times, want once", subject, got)
			}
		}
	}
	if wrong > 5 {
		t.Errorf("... and %d more messages not delivered exactly once", wrong-5)
	}
}

// waitFor waits until n messages whose subject starts with prefix arrived.
func (s *sink) waitFor(t *testing.T, prefix string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		s.mu.Lock()
		got := 0
		for _, raw := range s.received {
			if strings.Contains(raw, "Subject: "+prefix) {
				got++
			}
		}
		s.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("smart host: got %d messages, want %d within 20s", got, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
