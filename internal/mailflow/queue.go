package mailflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Queue timing. The backoff doubles from FirstRetry up to MaxRetry, so a
// side that is down for an hour is tried about a dozen times, and a side
// that comes back is reached within five minutes.
const (
	DefaultInterval = time.Second
	FirstRetry      = time.Second
	MaxRetry        = 5 * time.Minute
	// DialTimeout bounds connecting to the smart host; a loopback or LAN
	// peer answers in milliseconds, so a longer wait means it is down.
	DialTimeout = 10 * time.Second
	// sessionTimeout bounds one SMTP session. RFC 5321 section 4.5.3.2
	// suggests minutes per command; one session carries one message.
	sessionTimeout = 10 * time.Minute
	// batchSize is how many due messages one pass reads per database.
	batchSize = 100
)

// Queue delivers the queued outbound messages of a set of mailbox
// databases to a smart host.
type Queue struct {
	stores    map[string]store.Store
	smartHost string
	interval  time.Duration
	helo      string
	now       func() time.Time
	log       *slog.Logger
}

// Option configures a Queue.
type Option func(*Queue)

// WithInterval sets how often the queue looks for due messages.
func WithInterval(d time.Duration) Option { return func(q *Queue) { q.interval = d } }

// WithHelo sets the name the queue gives in EHLO (RFC 5321 section
// 4.1.1.1: the client's fully qualified domain name).
func WithHelo(name string) Option { return func(q *Queue) { q.helo = name } }

// WithClock sets the clock used to find due messages and to schedule
// retries.
func WithClock(now func() time.Time) Option { return func(q *Queue) { q.now = now } }

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(q *Queue) { q.log = l } }

// NewQueue returns a queue over stores (mailbox databases by name) that
// delivers to smartHost, a "host:port" address.
func NewQueue(stores map[string]store.Store, smartHost string, opts ...Option) *Queue {
	q := &Queue{
		stores:    stores,
		smartHost: smartHost,
		interval:  DefaultInterval,
		helo:      "localhost",
		now:       time.Now,
		log:       slog.Default(),
	}
	for _, o := range opts {
		o(q)
	}
	return q
}

// Run delivers due messages every interval until ctx is done, and then
// returns nil. Failures to deliver are recorded on the messages, not
// returned.
func (q *Queue) Run(ctx context.Context) error {
	t := time.NewTicker(q.interval)
	defer t.Stop()
	for {
		q.Flush(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Flush makes one pass over every database and tries each due message
// once. It returns how many messages left the queue.
func (q *Queue) Flush(ctx context.Context) int {
	done := 0
	for _, name := range slices.Sorted(maps.Keys(q.stores)) {
		if ctx.Err() != nil {
			break
		}
		done += q.flushStore(ctx, name, q.stores[name])
	}
	return done
}

func (q *Queue) flushStore(ctx context.Context, name string, s store.Store) int {
	due, err := s.Due(ctx, q.now(), batchSize)
	if err != nil && ctx.Err() != nil {
		return 0 // stopping: not a fault
	}
	if err != nil {
		q.log.ErrorContext(ctx, "mail queue: read due messages", "database", name, "err", err)
		return 0
	}
	done := 0
	for _, m := range due {
		if ctx.Err() != nil {
			break
		}
		if q.attempt(ctx, name, s, m) {
			done++
		}
	}
	return done
}

// attempt tries one message and records the outcome; it reports whether
// the message left the queue.
func (q *Queue) attempt(ctx context.Context, db string, s store.Store, m store.Outbound) bool {
	err := q.send(ctx, m)
	if err != nil && !isPermanent(err) {
		next := q.now().Add(Backoff(m.Attempts))
		q.log.InfoContext(ctx, "mail queue: deferred", "database", db, "id", m.ID,
			"attempts", m.Attempts+1, "next", next, "err", err)
		if derr := s.Defer(ctx, m.ID, next, err.Error()); derr != nil {
			q.log.ErrorContext(ctx, "mail queue: defer", "database", db, "id", m.ID, "err", derr)
		}
		return false
	}
	if err != nil {
		// TODO: send a non-delivery report to the sender's Inbox; today a
		// permanently refused message is only logged.
		q.log.ErrorContext(ctx, "mail queue: refused for good", "database", db, "id", m.ID,
			"err", err)
	}
	if derr := s.Dequeue(ctx, m.ID); derr != nil {
		q.log.ErrorContext(ctx, "mail queue: dequeue", "database", db, "id", m.ID, "err", derr)
		return false
	}
	return true
}

// Backoff is the wait before the next try of a message that has failed
// attempts times before: FirstRetry doubled per attempt, at most MaxRetry.
func Backoff(attempts int) time.Duration {
	d := FirstRetry
	for range max(attempts, 0) {
		d *= 2
		if d >= MaxRetry {
			return MaxRetry
		}
	}
	return d
}

// errAllRefused means the smart host refused every recipient.
type errAllRefused struct{ last error }

func (e errAllRefused) Error() string { return "every recipient refused: " + e.last.Error() }
func (e errAllRefused) Unwrap() error { return e.last }

// isPermanent tells whether the smart host refused the message for good:
// a 5yz reply (RFC 5321 section 4.2.1) to the whole message or to every
// recipient. Anything else is worth another try.
func isPermanent(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 500 && se.Code < 600
}

// send runs one SMTP session that delivers m.
func (q *Queue) send(ctx context.Context, m store.Outbound) error {
	d := net.Dialer{Timeout: DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", q.smartHost)
	if err != nil {
		return fmt.Errorf("connect to smart host: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.SetDeadline(time.Now().Add(sessionTimeout)); err != nil {
		conn.Close()
		return err
	}

	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello(q.helo); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	// The receiver takes at most MaxRecipients per transaction (RFC 5321
	// section 4.5.3.1.8 requires at least 100); more go in further
	// transactions of the same session.
	var refused error
	delivered := false
	for batch := range slices.Chunk(m.Recipients, MaxRecipients) {
		err := q.transaction(ctx, c, m, batch)
		if errors.As(err, new(errAllRefused)) {
			refused = err
			continue
		}
		if err != nil {
			return err
		}
		delivered = true
	}
	_ = c.Quit() // what was accepted stays accepted; a failed QUIT changes nothing
	if !delivered && refused != nil {
		return refused
	}
	return nil
}

// transaction sends m to some of its recipients: MAIL, RCPT..., DATA.
func (q *Queue) transaction(ctx context.Context, c *smtp.Client, m store.Outbound,
	rcpts []string) error {
	if err := c.Mail(m.From, nil); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := q.recipients(ctx, c, m.ID, rcpts); err != nil {
		_ = c.Reset()
		return err
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(m.MIME); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// recipients sends RCPT for each recipient. Recipients refused for good
// are dropped (and logged), so the others still get the message; a
// temporary refusal fails the attempt so that all are tried again.
func (q *Queue) recipients(ctx context.Context, c *smtp.Client, id string, rcpts []string) error {
	var refused error
	accepted := 0
	for _, rcpt := range rcpts {
		err := c.Rcpt(rcpt, nil)
		switch {
		case err == nil:
			accepted++
		case isPermanent(err):
			refused = err
			q.log.WarnContext(ctx, "mail queue: recipient refused", "id", id,
				"recipient", rcpt, "err", err)
		default:
			return fmt.Errorf("rcpt to %s: %w", rcpt, err)
		}
	}
	if accepted == 0 {
		if refused == nil {
			refused = &smtp.SMTPError{Code: 554, Message: "no recipients"}
		}
		return errAllRefused{refused}
	}
	return nil
}
