package mailflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Receiver limits. Exchange Server's receive connectors default to a
// MaxMessageSize of 36 MB and MaxRecipientsPerMessage of 200 ("Message
// size and recipient limits in Exchange Server", Microsoft Learn); the
// receiver takes the same values so that what one premises sends the
// other accepts.
const (
	MaxMessageBytes = 36 << 20
	MaxRecipients   = 200
)

// Server is the SMTP receiver of one premises.
type Server struct {
	smtp    *smtp.Server
	deliver func(ctx context.Context, rcpt string, raw []byte) error
	accept  func(ctx context.Context, rcpt string) bool
	ctx     context.Context // cancelled by Close; bounds deliver and accept
	cancel  context.CancelFunc

	// mu guards listeners and closed. go-smtp's Close only closes the
	// listeners its Serve has registered, so a Close that runs before Serve
	// would leave Serve accepting for ever; we track them ourselves.
	mu        sync.Mutex
	listeners []net.Listener
	closed    bool
}

// NewServer returns a receiver for addr ("host:port"). accept tells
// whether a recipient address is a mailbox here; deliver puts a message
// into one recipient's mailbox.
func NewServer(addr string,
	deliver func(ctx context.Context, rcpt string, raw []byte) error,
	accept func(ctx context.Context, rcpt string) bool) *Server {
	s := &Server{deliver: deliver, accept: accept}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.smtp = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.smtp.Addr = addr
	s.smtp.Domain = "localhost"
	s.smtp.MaxMessageBytes = MaxMessageBytes
	s.smtp.MaxRecipients = MaxRecipients
	s.smtp.ReadTimeout = 5 * time.Minute // RFC 5321 section 4.5.3.2.7
	s.smtp.WriteTimeout = time.Minute
	s.smtp.ErrorLog = slogAdapter{}
	return s
}

// ListenAndServe listens on the server's address and serves until Close.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.smtp.Addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve serves connections from l until Close. After Close it returns
// net.ErrClosed at once.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return net.ErrClosed
	}
	s.listeners = append(s.listeners, l)
	s.mu.Unlock()
	err := s.smtp.Serve(l)
	if s.ctx.Err() != nil {
		return net.ErrClosed
	}
	return err
}

// Close stops listening, closes open sessions and cancels deliveries in
// progress.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.listeners {
		l.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.smtp.Close()
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if a := c.Conn().RemoteAddr(); a != nil {
		remote = a.String()
	}
	return &session{srv: s, helo: c.Hostname(), remote: remote}, nil
}

// session is one SMTP transaction state (RFC 5321 section 3.3).
type session struct {
	srv        *Server
	helo       string
	remote     string
	from       string
	recipients []string
}

func (ss *session) Reset() { ss.from, ss.recipients = "", nil }

func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

// errNoMailbox is the reply to a recipient that is not a mailbox here.
var errNoMailbox = &smtp.SMTPError{
	Code:         550,
	EnhancedCode: smtp.EnhancedCode{5, 1, 1},
	Message:      "Recipient address rejected: no such mailbox",
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !ss.srv.accept(ss.srv.ctx, to) {
		return errNoMailbox
	}
	ss.recipients = append(ss.recipients, to)
	return nil
}

// Data delivers the message to every accepted recipient. If any delivery
// fails the reply is a temporary failure, so the sender tries the whole
// message again: a recipient may then get it twice, which is better than
// not at all.
func (ss *session) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err // the library replies 552 when the size limit is passed
	}
	raw := append(ss.traceField(time.Now()), body...)

	var failed error
	for _, rcpt := range ss.recipients {
		if err := ss.srv.deliver(ss.srv.ctx, rcpt, raw); err != nil {
			slog.ErrorContext(ss.srv.ctx, "smtp receiver: deliver", "recipient", rcpt, "err", err)
			failed = errors.Join(failed, err)
		}
	}
	if failed != nil {
		return &smtp.SMTPError{
			Code:         451,
			EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message:      "Delivery failed; try again later",
		}
	}
	return nil
}

// traceField is the Received field that an SMTP server adds at the top of
// each message it accepts (RFC 5321 section 4.4), whose date the mailbox
// takes as the time of receipt.
func (ss *session) traceField(now time.Time) []byte {
	var b bytes.Buffer
	helo := strings.Map(printable, ss.helo)
	fmt.Fprintf(&b, "Received: from %s (%s)\r\n\tby %s with ESMTP;\r\n\t%s\r\n",
		helo, strings.Map(printable, ss.remote), ss.srv.smtp.Domain,
		now.Format(time.RFC1123Z))
	return b.Bytes()
}

// printable drops characters that would break a header line.
func printable(r rune) rune {
	if r < 0x21 || r == 0x7f {
		return -1
	}
	return r
}

// slogAdapter sends the SMTP library's internal errors to slog.
type slogAdapter struct{}

func (slogAdapter) Printf(format string, v ...any) {
	slog.Error("smtp receiver: " + fmt.Sprintf(format, v...))
}

func (slogAdapter) Println(v ...any) {
	slog.Error("smtp receiver: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
