package autodiscover

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// directory is the lookup of the tests: two mailboxes, matched without
// regard to case as Exchange matches addresses.
func directory(_ context.Context, email string) (string, bool) {
	switch strings.ToLower(email) {
	case "alice@contoso.test", "o'brien+x@contoso.test":
		return "http://127.0.0.1:5443/api", true
	}
	return "", false
}

func TestHandler(t *testing.T) {
	ok := `{"Protocol":"Rest","Url":"http://127.0.0.1:5443/api"}`
	tests := []struct {
		name, method, target string
		status               int
		body                 string // JSON, compared structurally
	}{
		{"query form", "GET", "/autodiscover/autodiscover.json?Email=alice@contoso.test&Protocol=Rest",
			200, ok},
		{"path form", "GET", "/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=Rest",
			200, ok},
		{"protocol and path case", "GET",
			"/AutoDiscover/AutoDiscover.json?email=ALICE@contoso.test&protocol=rest&RedirectCount=3",
			200, ok},
		{"escaped path address", "GET",
			"/autodiscover/autodiscover.json/v1.0/o%27brien%2Bx@contoso.test?Protocol=Rest", 200, ok},
		{"other protocol", "GET", "/autodiscover/autodiscover.json?Email=alice@contoso.test&Protocol=Ews",
			400, `{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value 'Ews' is invalid. Supported values are 'Rest'"}`},
		{"no protocol", "GET", "/autodiscover/autodiscover.json?Email=alice@contoso.test",
			400, `{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value '' is invalid. Supported values are 'Rest'"}`},
		{"unknown user", "GET", "/autodiscover/autodiscover.json?Email=bob@contoso.test&Protocol=Rest",
			404, `{"ErrorCode":"UserNotFound","ErrorMessage":"No mailbox was found for the given email address."}`},
		// The whole Email value is the address looked up; the stray
		// parameter and the path-looking local part steer nothing.
		{"proxyshell", "GET", "/autodiscover/autodiscover.json?@evil.test/mapi/nspi/?&Email=autodiscover/autodiscover.json%3f@evil.test&Protocol=Rest",
			404, `{"ErrorCode":"UserNotFound","ErrorMessage":"No mailbox was found for the given email address."}`},
		{"address with a route", "GET",
			"/autodiscover/autodiscover.json?Email=@evil.test:alice@contoso.test&Protocol=Rest",
			400, `{"ErrorCode":"InvalidEmailAddress","ErrorMessage":"The given email address is not a valid SMTP address."}`},
		{"address in path and query", "GET",
			"/autodiscover/autodiscover.json/v1.0/alice@contoso.test?Protocol=Rest&Email=alice@contoso.test",
			400, `{"ErrorCode":"InvalidRequest","ErrorMessage":"The email address is given both in the path and in the query."}`},
		{"two addresses", "GET",
			"/autodiscover/autodiscover.json?Email=alice@contoso.test&email=bob@contoso.test&Protocol=Rest",
			400, ""},
		{"path with more segments", "GET",
			"/autodiscover/autodiscover.json/v1.0/x/alice@contoso.test?Protocol=Rest", 404, ""},
		{"bad redirect count", "GET",
			"/autodiscover/autodiscover.json?Email=alice@contoso.test&Protocol=Rest&RedirectCount=-1", 400, ""},
		{"quoted local part", "GET",
			"/autodiscover/autodiscover.json?Email=%22a%20b%22@contoso.test&Protocol=Rest", 400, ""},
		{"other path", "GET", "/autodiscover/autodiscover.xml?Email=alice@contoso.test&Protocol=Rest",
			404, ""},
		{"post", "POST", "/autodiscover/autodiscover.json?Email=alice@contoso.test&Protocol=Rest",
			405, ""},
	}
	h := Handler(directory)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
			if rec.Code != tt.status {
				t.Fatalf("status: got %d, want %d (body %s)", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type: got %q, want application/json", ct)
			}
			var got map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if tt.body == "" {
				if got["ErrorCode"] == "" {
					t.Errorf("got body %v, want an ErrorCode", got)
				}
				return
			}
			var want map[string]string
			if err := json.Unmarshal([]byte(tt.body), &want); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("PUT", Path, nil))
	if got := rec.Header().Get("Allow"); got != "GET" {
		t.Errorf("Allow: got %q, want GET", got)
	}
}

func TestValidAddress(t *testing.T) {
	long := strings.Repeat("a", 65)
	tests := []struct {
		in   string
		want bool
	}{
		{"alice@contoso.test", true},
		{"first.last+tag@mail.contoso.test", true},
		{"o'brien@x-y.test", true},
		{"a@b", true},
		{"", false},
		{"alice", false},
		{"@contoso.test", false},
		{"alice@", false},
		{".alice@contoso.test", false},
		{"al..ice@contoso.test", false},
		{"alice.@contoso.test", false},
		{`"alice"@contoso.test`, false},
		{"alice@[127.0.0.1]", false},
		{"alice@-contoso.test", false},
		{"alice@contoso..test", false},
		{"alice@contoso_test", false},
		{"al ice@contoso.test", false},
		{"alice@contoso.test/x", false},
		{"alice@contoso.test?x", false},
		{"ålice@contoso.test", false},
		{long + "@contoso.test", false},
		{"a@" + strings.Repeat("b", 64) + ".test", false},
		{"a@b@contoso.test", false},
	}
	for _, tt := range tests {
		if got := ValidAddress(tt.in); got != tt.want {
			t.Errorf("ValidAddress(%q): got %v, want %v", tt.in, got, tt.want)
		}
	}
	if got := Domain("Alice@Contoso.TEST"); got != "contoso.test" {
		t.Errorf("Domain: got %q, want contoso.test", got)
	}
}

// FuzzParseRequest checks that whatever URL arrives, the handler either
// refuses it or routes on an address that is a plain addr-spec, and never
// panics.
func FuzzParseRequest(f *testing.F) {
	f.Add("/autodiscover/autodiscover.json", "Email=alice@contoso.test&Protocol=Rest")
	f.Add("/autodiscover/autodiscover.json/v1.0/alice@contoso.test", "Protocol=rest")
	f.Add("/autodiscover/autodiscover.json", "@evil.test/mapi/?&Email=a%3f@evil.test&Protocol=Rest")
	f.Add("/autodiscover/autodiscover.json/v1.0/a%2Fb@c", "Protocol=Rest&RedirectCount=1")
	f.Fuzz(func(t *testing.T, path, query string) {
		u := &url.URL{Path: path, RawQuery: query}
		email, protocol, status, code, _ := parseRequest(u)
		if status != 0 {
			if code == "" {
				t.Fatalf("status %d without a code", status)
			}
			return
		}
		if !ValidAddress(email) {
			t.Fatalf("routed on %q, not a plain address", email)
		}
		if protocol != ProtocolRest {
			t.Fatalf("accepted protocol %q", protocol)
		}
		var called string
		h := Handler(func(_ context.Context, e string) (string, bool) { called = e; return "x", true })
		rec := httptest.NewRecorder()
		req := &http.Request{Method: "GET", URL: u, Header: http.Header{}}
		h.ServeHTTP(rec, req.WithContext(context.Background()))
		if called != email || rec.Code != 200 {
			t.Fatalf("handler: looked up %q (status %d), parser gave %q", called, rec.Code, email)
		}
	})
}
