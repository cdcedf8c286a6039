package mailflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// mailboxes is a receiving premises: addresses it accepts and what each
// got.
type mailboxes struct {
	mu    sync.Mutex
	known map[string]bool
	got   map[string][][]byte
	fail  error
}

func newMailboxes(addrs ...string) *mailboxes {
	m := &mailboxes{known: map[string]bool{}, got: map[string][][]byte{}}
	for _, a := range addrs {
		m.known[a] = true
	}
	return m
}

func (m *mailboxes) accept(_ context.Context, rcpt string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.known[strings.ToLower(rcpt)]
}

func (m *mailboxes) deliver(_ context.Context, rcpt string, raw []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.got[rcpt] = append(m.got[rcpt], raw)
	return nil
}

func (m *mailboxes) count(rcpt string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.got[rcpt])
}

// startServer serves mb on addr ("127.0.0.1:0" for any port) until the
// test ends.
func startServer(t *testing.T, addr string, mb *mailboxes) string {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(l.Addr().String(), mb.deliver, mb.accept)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// freeAddr returns a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

const testMIME = "From: a@cloud.example\r\nTo: b@onprem.example\r\nSubject: hi\r\n\r\nhello\r\n"

func TestQueueSurvivesReceiverDown(t *testing.T) {
	addr := freeAddr(t)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db := newQueueStore(store.Outbound{ID: "m1", From: "a@cloud.example",
		Recipients: []string{"b@onprem.example"}, MIME: []byte(testMIME), NextAttempt: now})
	q := NewQueue(map[string]store.Store{"db1": db}, addr, WithClock(clock), WithHelo("cloud.test"))
	ctx := context.Background()

	// Down: each pass defers with a doubling wait, and nothing is lost.
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if n := q.Flush(ctx); n != 0 {
			t.Fatalf("pass %d while down: got %d delivered, want 0", i, n)
		}
		m, ok := db.get("m1")
		if !ok {
			t.Fatalf("pass %d: message left the queue while the receiver was down", i)
		}
		if m.Attempts != i+1 || !m.NextAttempt.Equal(now.Add(wait)) || m.LastError == "" {
			t.Fatalf("pass %d: got attempts %d next %v error %q, want %d, %v and an error",
				i, m.Attempts, m.NextAttempt, m.LastError, i+1, now.Add(wait))
		}
		if n := q.Flush(ctx); n != 0 {
			t.Fatalf("pass %d: got a try before the message was due", i)
		}
		now = now.Add(wait)
	}

	// Up: the next pass delivers and dequeues.
	mb := newMailboxes("b@onprem.example")
	startServer(t, addr, mb)
	if n := q.Flush(ctx); n != 1 {
		t.Fatalf("after the receiver came up: got %d delivered, want 1", n)
	}
	if _, ok := db.get("m1"); ok {
		t.Errorf("message still queued after delivery")
	}
	got := mb.got["b@onprem.example"]
	if len(got) != 1 || !bytes.HasSuffix(got[0], []byte(testMIME)) ||
		!bytes.HasPrefix(got[0], []byte("Received: from cloud.test ")) {
		t.Errorf("delivered: got %q, want the message after a Received field", got)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		attempts int
		want     time.Duration
	}{
		{0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {8, 256 * time.Second},
		{9, MaxRetry}, {50, MaxRetry}, {1000, MaxRetry}, {-1, time.Second},
	}
	for _, tt := range tests {
		if got := Backoff(tt.attempts); got != tt.want {
			t.Errorf("Backoff(%d): got %v, want %v", tt.attempts, got, tt.want)
		}
	}
}

func TestQueueRefusals(t *testing.T) {
	mb := newMailboxes("known@onprem.example")
	addr := startServer(t, "127.0.0.1:0", mb)
	db := newQueueStore(
		store.Outbound{ID: "partial", From: "a@x", MIME: []byte(testMIME),
			Recipients: []string{"nobody@onprem.example", "known@onprem.example"}},
		store.Outbound{ID: "all", From: "a@x", MIME: []byte(testMIME),
			Recipients: []string{"nobody@onprem.example"}},
	)
	q := NewQueue(map[string]store.Store{"db": db}, addr)
	if n := q.Flush(context.Background()); n != 2 {
		t.Errorf("got %d messages out of the queue, want 2", n)
	}
	if got := mb.count("known@onprem.example"); got != 1 {
		t.Errorf("known recipient got %d messages, want 1", got)
	}
	if _, ok := db.get("all"); ok {
		t.Errorf("message refused for good is still queued")
	}
}

func TestQueueTemporaryFailureDefers(t *testing.T) {
	mb := newMailboxes("b@onprem.example")
	mb.fail = errors.New("database busy")
	addr := startServer(t, "127.0.0.1:0", mb)
	db := newQueueStore(store.Outbound{ID: "m", From: "a@x", MIME: []byte(testMIME),
		Recipients: []string{"b@onprem.example"}})
	q := NewQueue(map[string]store.Store{"db": db}, addr)
	q.Flush(context.Background())
	m, ok := db.get("m")
	if !ok || m.Attempts != 1 || !strings.Contains(m.LastError, "451") {
		t.Errorf("got queued %v attempts %d error %q, want queued, 1, a 451 error",
			ok, m.Attempts, m.LastError)
	}
}

func TestQueueManyRecipients(t *testing.T) {
	var rcpts []string
	mb := newMailboxes()
	for i := range MaxRecipients*2 + 5 {
		r := fmt.Sprintf("u%d@onprem.example", i)
		rcpts = append(rcpts, r)
		mb.known[r] = true
	}
	addr := startServer(t, "127.0.0.1:0", mb)
	db := newQueueStore(store.Outbound{ID: "m", From: "a@x", MIME: []byte(testMIME),
		Recipients: rcpts})
	if n := NewQueue(map[string]store.Store{"db": db}, addr).Flush(context.Background()); n != 1 {
		t.Fatalf("got %d delivered, want 1", n)
	}
	for _, r := range rcpts {
		if mb.count(r) != 1 {
			t.Fatalf("%s got %d copies, want 1", r, mb.count(r))
		}
	}
}

func TestQueueRunStops(t *testing.T) {
	mb := newMailboxes("b@onprem.example")
	addr := startServer(t, "127.0.0.1:0", mb)
	db := newQueueStore()
	q := NewQueue(map[string]store.Store{"db": db}, addr, WithInterval(10*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- q.Run(ctx) }()

	// A message queued while Run is going is picked up by a later pass.
	db.mu.Lock()
	db.msgs["late"] = &store.Outbound{ID: "late", From: "a@x", MIME: []byte(testMIME),
		Recipients: []string{"b@onprem.example"}}
	db.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for mb.count("b@onprem.example") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if mb.count("b@onprem.example") != 1 {
		t.Errorf("Run did not deliver the message queued after it started")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: got %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

// smtpSession dials addr and greets it.
func smtpSession(t *testing.T, addr string) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	return c
}

func smtpCode(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1],
			se.EnhancedCode[2])
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func TestServerReplies(t *testing.T) {
	mb := newMailboxes("b@onprem.example", "c@onprem.example")
	addr := startServer(t, "127.0.0.1:0", mb)

	t.Run("unknown recipient", func(t *testing.T) {
		c := smtpSession(t, addr)
		if err := c.Mail("a@x", nil); err != nil {
			t.Fatal(err)
		}
		if got, want := smtpCode(c.Rcpt("nobody@onprem.example", nil)), "550 5.1.1"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
	t.Run("too many recipients", func(t *testing.T) {
		c := smtpSession(t, addr)
		if err := c.Mail("a@x", nil); err != nil {
			t.Fatal(err)
		}
		var last error
		for range MaxRecipients + 1 {
			last = c.Rcpt("b@onprem.example", nil)
		}
		if got, want := smtpCode(last), "452 4.5.3"; got != want {
			t.Errorf("recipient %d: got %s, want %s", MaxRecipients+1, got, want)
		}
	})
	t.Run("too large", func(t *testing.T) {
		c := smtpSession(t, addr)
		big := bytes.Repeat([]byte(strings.Repeat("x", 998)+"\r\n"), MaxMessageBytes/1000+10)
		err := c.SendMail("a@x", []string{"b@onprem.example"}, bytes.NewReader(big))
		if got, want := smtpCode(err), "552 5.3.4"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if n := mb.count("b@onprem.example"); n != 0 {
			t.Errorf("an oversized message was delivered %d times", n)
		}
	})
	t.Run("delivers to each recipient", func(t *testing.T) {
		c := smtpSession(t, addr)
		err := c.SendMail("a@x", []string{"b@onprem.example", "c@onprem.example"},
			strings.NewReader(testMIME))
		if err != nil {
			t.Fatal(err)
		}
		got := []int{mb.count("b@onprem.example"), mb.count("c@onprem.example")}
		if diff := cmp.Diff([]int{1, 1}, got); diff != "" {
			t.Errorf("copies per recipient (-want +got):\n%s", diff)
		}
	})
}

// A Close that runs before Serve has started must still stop it: the demo
// stops right after it starts when a test ends quickly.
func TestCloseBeforeServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(ln.Addr().String(),
		func(context.Context, string, []byte) error { return nil },
		func(context.Context, string) bool { return true })
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve after Close: got %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve after Close did not return")
	}

	// And a Close after Serve has begun stops it and reports no error.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2 := NewServer(ln2.Addr().String(),
		func(context.Context, string, []byte) error { return nil },
		func(context.Context, string) bool { return true })
	go func() { done <- srv2.Serve(ln2) }()
	time.Sleep(50 * time.Millisecond)
	if err := srv2.Close(); err != nil {
		t.Errorf("Close while serving: %v", err)
	}
	<-done
}
