package httpserver

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// echo answers with the request body it read, or the error ReadBody gave.
func echo(w http.ResponseWriter, r *http.Request) error {
	b, err := ReadBody(r)
	if err != nil {
		return err
	}
	w.Write(b)
	return nil
}

func serve(env Envelope, h HandlerFunc, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	Middleware(quietLog(), env, Handle(env, h)).ServeHTTP(rec, req)
	return rec
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

type errorBody struct {
	Error struct {
		Code       string         `json:"code"`
		Message    string         `json:"message"`
		InnerError map[string]any `json:"innerError"`
	} `json:"error"`
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("not an error body: %v\n%s", err, rec.Body)
	}
	return e
}

func TestBodies(t *testing.T) {
	big := bytes.Repeat([]byte("a"), MaxBodyBytes+1)
	tests := []struct {
		name     string
		body     []byte
		encoding string
		status   int
		code     string
	}{
		{"plain", []byte(`{"a":1}`), "", 200, ""},
		{"gzip", gz([]byte(`{"a":1}`)), "gzip", 200, ""},
		{"not gzip", []byte(`{"a":1}`), "gzip", 400, "RequestBodyRead"},
		{"too large", big, "", 413, "RequestEntityTooLarge"},
		{"gzip bomb", gz(big), "gzip", 413, "RequestEntityTooLarge"},
		{"unknown encoding", []byte("x"), "br", 415, "UnsupportedMediaType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/x", bytes.NewReader(tt.body))
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			rec := serve(GraphEnvelope, echo, req)
			if rec.Code != tt.status {
				t.Fatalf("got %d, want %d\n%s", rec.Code, tt.status, rec.Body)
			}
			if tt.code == "" {
				if rec.Body.String() != `{"a":1}` {
					t.Errorf("body = %q, want the decoded request", rec.Body)
				}
				return
			}
			if e := decodeError(t, rec); e.Error.Code != tt.code {
				t.Errorf("code = %q, want %q", e.Error.Code, tt.code)
			}
		})
	}
}

// TestLimitedMiddleware checks that another limit holds both ways: a body
// above MaxBodyBytes passes under a larger limit, and the limit is named
// when it is passed, plain or gzipped.
func TestLimitedMiddleware(t *testing.T) {
	const limit = MaxBodyBytes * 2
	ok := bytes.Repeat([]byte("a"), MaxBodyBytes+1)
	big := bytes.Repeat([]byte("a"), limit+1)
	tests := []struct {
		name     string
		body     []byte
		encoding string
		status   int
	}{
		{"above the default", ok, "", 200},
		{"above the limit", big, "", 413},
		{"gzip above the limit", gz(big), "gzip", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/x", bytes.NewReader(tt.body))
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			rec := httptest.NewRecorder()
			LimitedMiddleware(quietLog(), GraphEnvelope, limit,
				Handle(GraphEnvelope, echo)).ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("got %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 413 {
				want := fmt.Sprintf("limit of %d bytes", limit)
				if e := decodeError(t, rec); !strings.Contains(e.Error.Message, want) {
					t.Errorf("message %q does not name %q", e.Error.Message, want)
				}
			} else if rec.Body.Len() != len(tt.body) {
				t.Errorf("echoed %d bytes, want %d", rec.Body.Len(), len(tt.body))
			}
		})
	}
}

func TestEnvelopesAndIDs(t *testing.T) {
	fail := func(w http.ResponseWriter, r *http.Request) error {
		return Wrap(errors.New("disk on fire"), http.StatusNotFound, "ErrorItemNotFound",
			"The specified object was not found in the store.")
	}
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("client-request-id", "abc-123")
	rec := serve(GraphEnvelope, fail, req)
	e := decodeError(t, rec)
	if rec.Code != 404 || e.Error.Code != "ErrorItemNotFound" {
		t.Errorf("got %d %s, want 404 ErrorItemNotFound", rec.Code, e.Error.Code)
	}
	if strings.Contains(rec.Body.String(), "disk on fire") {
		t.Error("the cause leaked into the answer")
	}
	rid := rec.Header().Get("request-id")
	if rid == "" || e.Error.InnerError["request-id"] != rid {
		t.Errorf("request-id header %q, innerError %v", rid, e.Error.InnerError)
	}
	if rec.Header().Get("client-request-id") != "abc-123" ||
		e.Error.InnerError["client-request-id"] != "abc-123" {
		t.Errorf("client-request-id not echoed: %v", e.Error.InnerError)
	}

	rec = serve(RESTEnvelope, fail, httptest.NewRequest("GET", "/x", nil))
	if strings.Contains(rec.Body.String(), "innerError") {
		t.Errorf("REST envelope has innerError: %s", rec.Body)
	}

	req = httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("client-request-id", "bad value\r\nX-Evil: 1")
	rec = serve(GraphEnvelope, fail, req)
	if rec.Header().Get("client-request-id") != "" {
		t.Error("an invalid client-request-id was echoed")
	}
}

func TestPanicBecomes500(t *testing.T) {
	boom := func(w http.ResponseWriter, r *http.Request) error { panic("boom") }
	rec := serve(GraphEnvelope, boom, httptest.NewRequest("GET", "/x", nil))
	e := decodeError(t, rec)
	if rec.Code != 500 || e.Error.Code != "generalException" || strings.Contains(e.Error.Message, "boom") {
		t.Errorf("got %d %s %q", rec.Code, e.Error.Code, e.Error.Message)
	}
}
