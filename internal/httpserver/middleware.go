package httpserver

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
)

// MaxBodyBytes is the largest request body accepted, after decompression.
// Graph's own limit for a JSON request is 4 MB; attachments above 3 MB go
// through upload sessions.
const MaxBodyBytes = 4 << 20

type ctxKey int

const recordKey ctxKey = iota

// record is what one request leaves for the access log.
type record struct {
	requestID       string
	clientRequestID string
	route           string
	premises        string
	err             *Error
	bodyLimit       int64
}

func recordOf(ctx context.Context) *record {
	rec, _ := ctx.Value(recordKey).(*record)
	return rec
}

// RequestID returns the id given to the request being served.
func RequestID(ctx context.Context) string {
	if rec := recordOf(ctx); rec != nil {
		return rec.requestID
	}
	return ""
}

// ClientRequestID returns the client-request-id the client sent, if any.
func ClientRequestID(ctx context.Context) string {
	if rec := recordOf(ctx); rec != nil {
		return rec.clientRequestID
	}
	return ""
}

// SetRoute names the route pattern for the access log (never the raw path,
// which holds ids and addresses).
func SetRoute(ctx context.Context, route string) {
	if rec := recordOf(ctx); rec != nil {
		rec.route = route
	}
}

// SetPremises records where the target mailbox lives ("cloud", "onprem").
func SetPremises(ctx context.Context, premises string) {
	if rec := recordOf(ctx); rec != nil {
		rec.premises = premises
	}
}

// clientRequestIDPattern bounds what is echoed back: a GUID or a similar
// short token, never arbitrary header text.
var clientRequestIDPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.:]{1,128}$`)

// Middleware wraps next with request ids, the access log, panic recovery,
// gzip request bodies and the body size limit, MaxBodyBytes. env shapes its
// own errors.
func Middleware(log *slog.Logger, env Envelope, next http.Handler) http.Handler {
	return LimitedMiddleware(log, env, MaxBodyBytes, next)
}

// LimitedMiddleware is Middleware with a body limit of limit bytes, for the
// few endpoints whose bodies are large by nature (a directory-sync batch
// lists every user of a directory).
func LimitedMiddleware(log *slog.Logger, env Envelope, limit int64,
	next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &record{requestID: uuid.NewString(), bodyLimit: limit}
		if c := r.Header.Get("client-request-id"); clientRequestIDPattern.MatchString(c) {
			rec.clientRequestID = c
			w.Header().Set("client-request-id", c)
		}
		w.Header().Set("request-id", rec.requestID)
		r = r.WithContext(context.WithValue(r.Context(), recordKey, rec))
		sw := &statusWriter{ResponseWriter: w}

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				err := fmt.Errorf("panic: %v", p)
				if sw.status == 0 {
					WriteError(sw, r, env, err)
				}
				rec.err = AsError(err)
			}
			logAccess(log, r, rec, sw.status, time.Since(start))
		}()

		if err := decodeBody(r, limit); err != nil {
			WriteError(sw, r, env, err)
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// decodeBody limits the request body and undoes Content-Encoding: gzip,
// which the Graph SDKs send.
func decodeBody(r *http.Request, limit int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body := io.Reader(http.MaxBytesReader(nil, r.Body, limit))
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return Wrap(err, http.StatusBadRequest, "RequestBodyRead",
				"The request body is not valid gzip.")
		}
		body = &limitedReader{r: zr, n: limit}
		r.Header.Del("Content-Encoding")
		r.ContentLength = -1
	default:
		return Errorf(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
			"Content-Encoding '%s' is not supported.", enc)
	}
	r.Body = readCloser{Reader: body, Closer: r.Body}
	return nil
}

// ReadBody reads the whole request body, answering 413 past the
// middleware's limit (MaxBodyBytes unless LimitedMiddleware set another).
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || err == errBodyTooLarge {
			return nil, Errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"The request body exceeds the limit of %d bytes.", bodyLimit(r.Context()))
		}
		return nil, Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body could not be read.")
	}
	return b, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// bodyLimit is the body limit of the request being served.
func bodyLimit(ctx context.Context) int64 {
	if rec := recordOf(ctx); rec != nil && rec.bodyLimit > 0 {
		return rec.bodyLimit
	}
	return MaxBodyBytes
}

var errBodyTooLarge = fmt.Errorf("request body too large")

// limitedReader fails, rather than truncating, past n bytes (a gzip bomb
// must not pass as a short body).
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess writes the one access record of a request, at a level by fault:
// success at debug, client error at info, server fault at error.
func logAccess(log *slog.Logger, r *http.Request, rec *record, status int, d time.Duration) {
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	route := rec.route
	if route == "" {
		route = "unmatched"
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", d),
		slog.String("request-id", rec.requestID),
	}
	if rec.clientRequestID != "" {
		attrs = append(attrs, slog.String("client-request-id", rec.clientRequestID))
	}
	if rec.premises != "" {
		attrs = append(attrs, slog.String("premises", rec.premises))
	}
	if rec.err != nil {
		attrs = append(attrs, slog.String("code", rec.err.Code))
		if rec.err.Cause != nil {
			attrs = append(attrs, slog.String("cause", rec.err.Cause.Error()))
		}
	}
	log.LogAttrs(r.Context(), level, "access", attrs...)
}
