package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Error is a failure that leaves the server as a Graph (or Outlook REST)
// error body. Message is safe to show the client; Cause is logged only.
type Error struct {
	Status  int
	Code    string
	Message string
	Cause   error
	// Header holds extra response headers, such as WWW-Authenticate or
	// Retry-After.
	Header http.Header
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error with a formatted client message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap builds an Error that keeps cause for the log.
func Wrap(cause error, status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message, Cause: cause}
}

// Envelope selects the error body shape.
type Envelope int

const (
	// GraphEnvelope: {"error":{"code","message","innerError":{"date",
	// "request-id","client-request-id"}}}.
	GraphEnvelope Envelope = iota
	// RESTEnvelope: {"error":{"code","message"}}, as Outlook REST v2.0 sends it.
	RESTEnvelope
)

// HandlerFunc is an HTTP handler that returns its failure instead of
// writing it. Handle turns it into an http.Handler.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h: a returned error is written once, in envelope env.
func Handle(env Envelope, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, env, err)
		}
	})
}

// AsError returns err as an *Error; any other error becomes a 500 whose
// cause is kept for the log.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err, http.StatusInternalServerError, "generalException",
		"An internal server error occurred.")
}

// WriteError writes err as an error body and records it for the access log.
func WriteError(w http.ResponseWriter, r *http.Request, env Envelope, err error) {
	e := AsError(err)
	if rec := recordOf(r.Context()); rec != nil {
		rec.err = e
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if env == GraphEnvelope {
		inner := map[string]any{
			"date":       time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id": RequestID(r.Context()),
		}
		if c := ClientRequestID(r.Context()); c != "" {
			inner["client-request-id"] = c
		}
		body["innerError"] = inner
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	if err := json.NewEncoder(w).Encode(map[string]any{"error": body}); err != nil {
		slog.Debug("write error body", "err", err)
	}
}
