package hybrid

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// graphError decodes a Graph error body.
func graphError(t *testing.T, rec *httptest.ResponseRecorder) (code, msg string, inner map[string]string) {
	t.Helper()
	var env struct {
		Error struct {
			Code       string            `json:"code"`
			Message    string            `json:"message"`
			InnerError map[string]string `json:"innerError"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("error body %q: %v", rec.Body, err)
	}
	return env.Error.Code, env.Error.Message, env.Error.InnerError
}

func TestGate(t *testing.T) {
	tests := []struct {
		version string
		rest    []string
		want    bool
	}{
		{"v1.0", []string{"messages"}, true},
		{"v1.0", []string{"MailFolders", "inbox", "messages"}, true},
		{"v1.0", []string{"mailFolders('inbox')", "messages"}, true},
		{"v1.0", []string{"sendMail"}, true},
		{"v1.0", []string{"calendarView"}, true},
		{"v1.0", []string{"calendar", "events"}, true},
		{"v1.0", []string{"contactFolders", "x", "contacts"}, true},
		{"beta", []string{"messages"}, false},
		{"v2.0", []string{"messages"}, false},
		{"v1.0", []string{"todo", "lists"}, false},
		{"v1.0", []string{"drive"}, false},
		{"v1.0", []string{"memberOf"}, false},
		{"v1.0", []string{"joinedTeams"}, false},
		{"v1.0", []string{"mailboxSettings"}, false},
		{"v1.0", []string{"photo", "$value"}, false},
		{"v1.0", nil, false},
	}
	for _, tt := range tests {
		if got := Allowed(tt.version, tt.rest); got != tt.want {
			t.Errorf("Allowed(%s, %q): got %v, want %v", tt.version, tt.rest, got, tt.want)
		}
	}

	o := newOnPrem(t)
	rt := newRouter(o, &countingTokens{}, nil)
	for _, u := range []string{"/beta/users/alice/messages", "/v1.0/users/alice/todo/lists",
		"/v1.0/users/alice/drive", "/v1.0/users/alice/memberOf"} {
		rec := call(rt, alice, "GET", u, "")
		code, msg, inner := graphError(t, rec)
		if rec.Code != 400 || code != "ErrorInvalidRequest" || msg != UnsupportedMessage {
			t.Errorf("%s: got %d %s %q, want 400 ErrorInvalidRequest %q", u, rec.Code, code, msg,
				UnsupportedMessage)
		}
		if inner["request-id"] == "" || inner["client-request-id"] != "c-1" {
			t.Errorf("%s: innerError %v, want request-id and client-request-id", u, inner)
		}
	}
	if len(o.got) != 0 {
		t.Errorf("the gate let %d requests through", len(o.got))
	}
}

func TestServeErrors(t *testing.T) {
	o := newOnPrem(t)
	tests := []struct {
		name       string
		reply      reply
		target     Target
		conns      []Connector
		wantStatus int
		wantCode   string
		wantMsg    string
		wantHeader map[string]string
	}{{
		name: "on-prem error passes with the sentence",
		reply: reply{status: 400, body: `{"error":{"code":"ErrorInvalidProperty",` +
			`"message":"The property 'ChangeKey' does not support filtering."}}`},
		wantStatus: 400, wantCode: "ErrorInvalidProperty",
		wantMsg: "The property 'ChangeKey' does not support filtering. " + PreviewSentence,
	}, {
		name:       "not found",
		reply:      reply{status: 404, body: `{"error":{"code":"ErrorItemNotFound","message":"The specified object was not found in the store."}}`},
		wantStatus: 404, wantCode: "ErrorItemNotFound",
		wantMsg: "The specified object was not found in the store. " + PreviewSentence,
	}, {
		name:       "throttled keeps Retry-After",
		reply:      reply{status: 429, header: map[string]string{"Retry-After": "3"}, body: `{"error":{"code":"ApplicationThrottled","message":"Slow down."}}`},
		wantStatus: 429, wantCode: "ApplicationThrottled", wantMsg: "Slow down. " + PreviewSentence,
		wantHeader: map[string]string{"Retry-After": "3"},
	}, {
		name:       "bare error page",
		reply:      reply{status: 500, header: map[string]string{"Content-Type": "text/html"}, body: "<h1>oops</h1>"},
		wantStatus: 500, wantCode: "UnknownError",
		wantMsg: "The mailbox server answered 500 Internal Server Error. " + PreviewSentence,
	}, {
		name:       "redirect is not followed",
		reply:      reply{status: 302, header: map[string]string{"Location": "https://evil.test/"}},
		wantStatus: 502, wantCode: "UnknownError",
	}, {
		name:       "malformed JSON",
		reply:      reply{status: 200, body: `{"Id":`},
		wantStatus: 502, wantCode: "UnknownError",
	}, {
		name:       "no connector for the domain",
		target:     Target{UPN: "bob@fabrikam.test", TargetAddress: "bob@fabrikam.test"},
		wantStatus: 404, wantCode: "MailboxNotEnabledForRESTAPI",
		wantMsg: "REST API is not yet supported for this mailbox.",
	}, {
		name: "disabled connector",
		conns: []Connector{{Name: "off", TargetAddressDomains: []string{"contoso.test"},
			DiscoveryEndpoint: "http://127.0.0.1:1/", Enabled: false}},
		wantStatus: 404, wantCode: "MailboxNotEnabledForRESTAPI",
	}, {
		name:       "unknown to autodiscover",
		target:     Target{UPN: "nobody@contoso.test", TargetAddress: "nobody@contoso.test"},
		wantStatus: 404, wantCode: "MailboxNotEnabledForRESTAPI",
	}, {
		name:       "no target address",
		target:     Target{UPN: "alice@contoso.test"},
		wantStatus: 404, wantCode: "MailboxNotEnabledForRESTAPI",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o.set(tt.reply)
			rt := newRouter(o, &countingTokens{}, func(opts *Options) {
				if tt.conns != nil {
					opts.Connectors = tt.conns
				}
			})
			target := tt.target
			if target.UPN == "" {
				target = alice
			}
			rec := call(rt, target, "GET", "/v1.0/users/alice/messages?$filter=changeKey%20eq%20'x'", "")
			code, msg, inner := graphError(t, rec)
			if rec.Code != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("got %d %s (%s), want %d %s", rec.Code, code, msg, tt.wantStatus, tt.wantCode)
			}
			if tt.wantMsg != "" && msg != tt.wantMsg {
				t.Errorf("message:\ngot  %q\nwant %q", msg, tt.wantMsg)
			}
			if inner["request-id"] == "" {
				t.Errorf("innerError %v, want a request-id", inner)
			}
			for k, v := range tt.wantHeader {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s: got %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestServeOnPremDown(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	deadURL := closed.URL
	closed.Close()

	o := newOnPrem(t)
	tests := []struct {
		name  string
		conns []Connector
	}{
		{"autodiscover down", []Connector{{TargetAddressDomains: []string{"contoso.test"},
			DiscoveryEndpoint: deadURL, Enabled: true}}},
		// Autodiscover answers with a REST root on a port nobody listens on.
		{"rest endpoint down", []Connector{{TargetAddressDomains: []string{"contoso.test"},
			DiscoveryEndpoint: "", Enabled: true}}},
	}
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Protocol":"Rest","Url":"` + deadURL + `/api"}`))
	}))
	defer dead.Close()
	tests[1].conns[0].DiscoveryEndpoint = dead.URL

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRouter(o, &countingTokens{}, func(opts *Options) {
				opts.Connectors = tt.conns
				opts.Timeout = 5 * time.Second
			})
			start := time.Now()
			rec := call(rt, alice, "GET", "/v1.0/users/alice/messages", "")
			code, _, _ := graphError(t, rec)
			if rec.Code != 503 || code != "serviceNotAvailable" {
				t.Errorf("got %d %s, want 503 serviceNotAvailable", rec.Code, code)
			}
			if rec.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v, want a fast failure", d)
			}
		})
	}
}

func TestServeOnPremSlow(t *testing.T) {
	o := newOnPrem(t)
	o.set(reply{status: 200, body: `{}`, delay: 10 * time.Second})
	const timeout = 300 * time.Millisecond
	rt := newRouter(o, &countingTokens{}, func(opts *Options) { opts.Timeout = timeout })
	start := time.Now()
	rec := call(rt, alice, "GET", "/v1.0/users/alice/messages", "")
	d := time.Since(start)
	code, _, _ := graphError(t, rec)
	if rec.Code != 504 || code != "UnknownError" {
		t.Errorf("got %d %s, want 504 UnknownError", rec.Code, code)
	}
	if d < timeout || d > timeout+500*time.Millisecond {
		t.Errorf("answered after %v, want about %v", d, timeout)
	}
}

func TestServeTooLarge(t *testing.T) {
	o := newOnPrem(t)
	o.set(reply{status: 200, body: `{"value":[` + strings.Repeat(`{"Subject":"x"},`, 100) + `{}]}`})
	rt := newRouter(o, &countingTokens{}, func(opts *Options) { opts.MaxResponseBytes = 1000 })
	rec := call(rt, alice, "GET", "/v1.0/users/alice/messages", "")
	if rec.Code != 502 {
		t.Errorf("got %d, want 502", rec.Code)
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestTokenCaching(t *testing.T) {
	o := newOnPrem(t)
	tokens := &countingTokens{}
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rt := newRouter(o, tokens, func(opts *Options) { opts.Now = clk.Now })
	bob := Target{UPN: "bob@contoso.test", TargetAddress: "bob@contoso.test"}

	steps := []struct {
		name      string
		advance   time.Duration
		target    Target
		wantCalls int
		wantAuth  string
	}{
		{"first", 0, alice, 1, "Bearer tok-1"},
		{"cached", 30 * time.Minute, alice, 1, "Bearer tok-1"},
		{"other user", 0, bob, 2, "Bearer tok-2"},
		{"inside the margin", 25*time.Minute + time.Second, alice, 3, "Bearer tok-3"},
		{"renewed is cached", time.Minute, alice, 3, "Bearer tok-3"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		if rec := call(rt, s.target, "GET", "/v1.0/users/x/messages", ""); rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", s.name, rec.Code, rec.Body)
		}
		if got := tokens.count(); got != s.wantCalls {
			t.Errorf("%s: S2SToken calls: got %d, want %d", s.name, got, s.wantCalls)
		}
		if got := o.last(t).auth; got != s.wantAuth {
			t.Errorf("%s: Authorization: got %q, want %q", s.name, got, s.wantAuth)
		}
	}
}
