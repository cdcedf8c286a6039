package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/directory"
)

// These tests run the whole organisation through its real HTTP stacks: the
// Graph front door, the hybrid router, Autodiscover, S2S tokens, the v2.0
// face, both engines and the SMTP mail flow.

const previewSentence = "REST APIs for this mailbox are currently in preview. " +
	"You can find more information about the preview REST APIs at https://dev.outlook.com."

func TestHealthz(t *testing.T) {
	o := startOrg(t, Options{})
	for _, base := range []string{o.d.CloudURL, o.d.OnPremURL} {
		if r := call(t, "GET", base+"/healthz", "", nil); r.status != http.StatusOK {
			t.Errorf("GET %s/healthz: got %d, want 200", base, r.status)
		}
	}
}

// listAll follows @odata.nextLink from first and returns every item.
func listAll(t *testing.T, first, token string) []map[string]any {
	t.Helper()
	var all []map[string]any
	next := first
	for pages := 0; next != ""; pages++ {
		if pages > 200 {
			t.Fatal("more than 200 pages")
		}
		r := call(t, "GET", next, token, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: got %d\n%s", next, r.status, r.body)
		}
		m := r.json(t)
		for _, v := range m["value"].([]any) {
			all = append(all, v.(map[string]any))
		}
		next, _ = m["@odata.nextLink"].(string)
		if next != "" && !strings.HasPrefix(next, strings.SplitN(first, "/v1.0", 2)[0]) {
			t.Fatalf("nextLink %s does not point at the gateway", next)
		}
	}
	return all
}

func TestListInboxBothPremises(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		for _, upn := range []string{"alice@contoso.test", "carol@contoso.test"} {
			t.Run(upn, func(t *testing.T) {
				tok := o.token(t, upn)
				first := o.d.CloudURL + "/v1.0/users/" + upn +
					"/mailFolders/inbox/messages?$top=7&$select=subject,from,receivedDateTime"
				items := listAll(t, first, tok)
				if len(items) < MinSeedMessages {
					t.Fatalf("got %d messages, want at least %d", len(items), MinSeedMessages)
				}
				seen := map[string]bool{}
				last := "9999"
				for _, it := range items {
					id, _ := it["id"].(string)
					if id == "" || seen[id] {
						t.Fatalf("missing or duplicate id %q", id)
					}
					seen[id] = true
					rcv, _ := it["receivedDateTime"].(string)
					if rcv > last {
						t.Errorf("not newest first: %s after %s", rcv, last)
					}
					last = rcv
					for k := range it {
						switch k {
						case "id", "subject", "from", "receivedDateTime", "@odata.etag":
						default:
							t.Errorf("unselected property %q in %v", k, it)
						}
					}
				}
			})
		}
	})
}

func TestMeAndFolders(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		for _, upn := range []string{"alice@contoso.test", "carol@contoso.test"} {
			tok := o.token(t, upn)
			r := call(t, "GET", o.d.CloudURL+"/v1.0/me/mailFolders", tok, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%s: list folders: got %d\n%s", upn, r.status, r.body)
			}
			names := map[string]bool{}
			for _, f := range r.json(t)["value"].([]any) {
				names[f.(map[string]any)["displayName"].(string)] = true
			}
			if !names["Inbox"] || !names["Sent Items"] {
				t.Errorf("%s: folders %v lack Inbox or Sent Items", upn, names)
			}
			r = call(t, "GET", o.d.CloudURL+"/v1.0/me/mailFolders('Inbox')", tok, nil)
			if r.status != http.StatusOK {
				t.Fatalf("%s: get inbox: got %d\n%s", upn, r.status, r.body)
			}
			if n := r.json(t)["totalItemCount"].(float64); n < MinSeedMessages {
				t.Errorf("%s: inbox totalItemCount %v, want at least %d", upn, n, MinSeedMessages)
			}
		}
	})
}

func TestCreateUpdateDelete(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		for _, upn := range []string{"alice@contoso.test", "carol@contoso.test"} {
			t.Run(upn, func(t *testing.T) {
				tok := o.token(t, upn)
				base := o.d.CloudURL + "/v1.0/me/messages"
				r := call(t, "POST", base, tok, map[string]any{
					"subject":    "Draft for O'Brien; urgent",
					"importance": "High",
					"body":       map[string]any{"contentType": "text", "content": "hello"},
					"toRecipients": []any{map[string]any{"emailAddress": map[string]any{
						"address": "bob@contoso.test"}}},
				})
				if r.status != http.StatusCreated {
					t.Fatalf("create: got %d\n%s", r.status, r.body)
				}
				m := r.json(t)
				id := m["id"].(string)
				if m["isDraft"] != true || m["importance"] != "high" {
					t.Errorf("created draft: isDraft %v importance %v; want true, high",
						m["isDraft"], m["importance"])
				}

				// A doubled quote, and a ";" both escaped and raw: net/url drops
				// query pairs with a raw ";", which must not turn into no filter.
				for _, filter := range []string{
					url.QueryEscape("subject eq 'Draft for O''Brien; urgent'"),
					"contains(subject,'Brien;%20urgent')",
				} {
					r = call(t, "GET", base+"?$filter="+filter, tok, nil)
					if got := len(r.json(t)["value"].([]any)); r.status != 200 || got != 1 {
						t.Errorf("$filter=%s: status %d, %d items; want 200, 1\n%s",
							filter, r.status, got, r.body)
					}
				}

				r = call(t, "PATCH", base+"/"+url.PathEscape(id), tok,
					map[string]any{"isRead": true})
				if r.status != http.StatusOK || r.json(t)["isRead"] != true {
					t.Errorf("patch: got %d\n%s", r.status, r.body)
				}
				r = call(t, "PATCH", base+"/"+url.PathEscape(id), tok, map[string]any{"bogus": 1})
				if code, _ := r.errorCode(t); r.status != http.StatusBadRequest || code == "" {
					t.Errorf("patch with an unknown property: got %d %s", r.status, code)
				}
				r = call(t, "DELETE", base+"/"+url.PathEscape(id), tok, nil)
				if r.status != http.StatusNoContent {
					t.Errorf("delete: got %d\n%s", r.status, r.body)
				}
				r = call(t, "GET", o.d.CloudURL+"/v1.0/me/mailFolders/inbox/messages/"+
					url.PathEscape(id), tok, nil)
				if code, _ := r.errorCode(t); r.status != http.StatusNotFound ||
					code != "ErrorItemNotFound" {
					t.Errorf("get deleted from inbox: got %d %s, want 404 ErrorItemNotFound",
						r.status, code)
				}
			})
		}
	})
}

// waitFor polls mailbox upn's inbox until a message with subject arrives.
func waitFor(t *testing.T, o *testOrg, upn, subject string) map[string]any {
	t.Helper()
	tok := o.token(t, upn)
	filter := url.QueryEscape(fmt.Sprintf("subject eq '%s'", subject))
	u := o.d.CloudURL + "/v1.0/users/" + upn + "/mailFolders/inbox/messages?$filter=" + filter
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r := call(t, "GET", u, tok, nil)
		if r.status != http.StatusOK {
			t.Fatalf("poll %s: got %d\n%s", upn, r.status, r.body)
		}
		if v := r.json(t)["value"].([]any); len(v) > 0 {
			return v[0].(map[string]any)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("message %q did not reach %s within 30s", subject, upn)
	return nil
}

func TestSendAcrossPremises(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		tests := []struct{ from, to string }{
			{"alice@contoso.test", "carol@contoso.test"},
			{"carol@contoso.test", "alice@contoso.test"},
			{"alice@contoso.test", "bob@contoso.test"},
		}
		for i, tt := range tests {
			t.Run(tt.from+"->"+tt.to, func(t *testing.T) {
				subject := fmt.Sprintf("across %d %d", i, time.Now().UnixNano())
				r := call(t, "POST", o.d.CloudURL+"/v1.0/me/sendMail", o.token(t, tt.from),
					map[string]any{"message": map[string]any{
						"subject": subject,
						"body":    map[string]any{"contentType": "text", "content": "hi"},
						"toRecipients": []any{map[string]any{"emailAddress": map[string]any{
							"address": tt.to}}},
					}})
				if r.status != http.StatusAccepted {
					t.Fatalf("sendMail: got %d\n%s", r.status, r.body)
				}
				got := waitFor(t, o, tt.to, subject)
				from := got["from"].(map[string]any)["emailAddress"].(map[string]any)["address"]
				if !strings.EqualFold(fmt.Sprint(from), tt.from) {
					t.Errorf("from = %v, want %s", from, tt.from)
				}
			})
		}
	})
}

func TestPreviewGateAndNoREST(t *testing.T) {
	o := startOrg(t, Options{})
	carol := o.token(t, "carol@contoso.test")
	for _, path := range []string{"/beta/me/messages", "/v1.0/me/todo/lists",
		"/v1.0/me/onenote/notebooks", "/v1.0/users/carol@contoso.test/drive"} {
		r := call(t, "GET", o.d.CloudURL+path, carol, nil)
		code, msg := r.errorCode(t)
		want := "The OData request is not supported. " + previewSentence
		if r.status != http.StatusBadRequest || code != "ErrorInvalidRequest" || msg != want {
			t.Errorf("GET %s: got %d %s %q", path, r.status, code, msg)
		}
	}

	dave := o.token(t, "dave@contoso.test")
	r := call(t, "GET", o.d.CloudURL+"/v1.0/me/messages", dave, nil)
	code, msg := r.errorCode(t)
	if r.status != http.StatusNotFound || code != "MailboxNotEnabledForRESTAPI" ||
		!strings.HasPrefix(msg, "REST API is not yet supported for this mailbox.") {
		t.Errorf("dave: got %d %s %q", r.status, code, msg)
	}

	r = call(t, "GET", o.d.CloudURL+"/v1.0/me/messages/AAMkbogus", carol, nil)
	code, msg = r.errorCode(t)
	if r.status != http.StatusNotFound || !strings.HasSuffix(msg, previewSentence) {
		t.Errorf("carol missing message: got %d %s %q; want 404 with the preview sentence",
			r.status, code, msg)
	}
}

func TestAuthentication(t *testing.T) {
	o := startOrg(t, Options{})
	u := o.d.CloudURL + "/v1.0/me/messages"
	alice := o.token(t, "alice@contoso.test")
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"no token", "", 401, "InvalidAuthenticationToken"},
		{"garbage", "abc.def.ghi", 401, "InvalidAuthenticationToken"},
		{"tampered", alice[:len(alice)-4] + "AAAA", 401, "InvalidAuthenticationToken"},
		{"no mail scope", o.token(t, "alice@contoso.test", "User.Read"), 403, "ErrorAccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, "GET", u, tt.token, nil)
			code, _ := r.errorCode(t)
			if r.status != tt.status || code != tt.code {
				t.Errorf("got %d %s, want %d %s", r.status, code, tt.status, tt.code)
			}
			if tt.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	// Alice may not read Bob's mailbox with a delegated token for herself.
	r := call(t, "GET", o.d.CloudURL+"/v1.0/users/bob@contoso.test/messages", alice, nil)
	if r.status != http.StatusForbidden {
		t.Errorf("alice reading bob: got %d, want 403", r.status)
	}
	// The on-prem server refuses a client's Graph token.
	r = call(t, "GET", o.d.OnPremURL+"/api/v2.0/me/messages", o.token(t, "carol@contoso.test"), nil)
	if r.status != http.StatusUnauthorized {
		t.Errorf("on-prem with a Graph token: got %d, want 401", r.status)
	}
}

func TestRequestIDsAndGzip(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		tok := o.token(t, "alice@contoso.test")
		r := call(t, "GET", o.d.CloudURL+"/v1.0/me/messages?$top=1", tok, nil,
			"client-request-id", "7f0a3c1e-1111-2222-3333-444455556666")
		if r.header.Get("request-id") == "" ||
			r.header.Get("client-request-id") != "7f0a3c1e-1111-2222-3333-444455556666" {
			t.Errorf("headers: request-id %q client-request-id %q", r.header.Get("request-id"),
				r.header.Get("client-request-id"))
		}

		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(`{"subject":"zipped"}`))
		zw.Close()
		r = call(t, "POST", o.d.CloudURL+"/v1.0/me/messages", tok, buf.Bytes(),
			"Content-Encoding", "gzip")
		if r.status != http.StatusCreated || r.json(t)["subject"] != "zipped" {
			t.Errorf("gzip body: got %d\n%s", r.status, r.body)
		}
	})
}

func TestOnPremDown(t *testing.T) {
	o := startOrg(t, Options{ProxyTimeout: 2 * time.Second})
	o.ls.onprem.Close() // the server stops accepting; existing idle connections close too
	for _, srv := range o.sys.servers[1:] {
		srv.Close()
	}
	start := time.Now()
	r := call(t, "GET", o.d.CloudURL+"/v1.0/me/messages", o.token(t, "carol@contoso.test"), nil)
	if r.status != http.StatusServiceUnavailable && r.status != http.StatusGatewayTimeout {
		t.Errorf("carol with on-prem down: got %d, want 503 or 504\n%s", r.status, r.body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answer took %v, past the 2s timeout", d)
	}
	r = call(t, "GET", o.d.CloudURL+"/v1.0/me/messages?$top=1", o.token(t, "alice@contoso.test"), nil)
	if r.status != http.StatusOK {
		t.Errorf("alice with on-prem down: got %d, want 200", r.status)
	}
}

// Every answer is a Graph (or v2.0) error body, whatever the mistake.
func TestBadRequestsAreGraphShaped(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		alice := o.token(t, "alice@contoso.test")
		carol := o.token(t, "carol@contoso.test")
		cloud, prem := o.d.CloudURL, o.d.OnPremURL
		tests := []struct {
			name, method, url, token string
			body                     any
			status                   int
			code                     string
		}{
			{"root", "GET", cloud + "/", "", nil, 400, "BadRequest"},
			{"other version", "GET", cloud + "/v2.0/me/messages", alice, nil, 400, "BadRequest"},
			{"on-prem unknown path", "GET", prem + "/owa/", "", nil, 404, "ErrorInvalidUrl"},
			{"dot segment cloud", "GET", cloud + "/v1.0/me/messages/%2E", alice, nil, 400,
				"BadRequest"},
			{"dot segment on-prem", "GET", cloud + "/v1.0/me/messages/%2E", carol, nil, 400,
				"BadRequest"},
			{"method", "PUT", cloud + "/v1.0/me/messages", alice, nil, 405, "ErrorInvalidRequest"},
			{"method on-prem", "PUT", cloud + "/v1.0/me/messages", carol, nil, 405,
				"ErrorInvalidRequest"},
			{"sendMail unknown parameter", "POST", cloud + "/v1.0/me/sendMail", alice,
				`{"message":{"subject":"x"},"foo":1}`, 400, "RequestBodyRead"},
			{"sendMail bad saveToSentItems", "POST", cloud + "/v1.0/me/sendMail", alice,
				`{"message":{"subject":"x"},"saveToSentItems":"no"}`, 400, "RequestBodyRead"},
			{"unknown user", "GET", cloud + "/v1.0/users/zed@contoso.test/messages", alice, nil,
				404, "ErrorInvalidUser"},
			{"top too large", "GET", cloud + "/v1.0/me/messages?$top=1001", alice, nil, 400,
				"BadRequest"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := call(t, tt.method, tt.url, tt.token, tt.body)
				code, msg := r.errorCode(t)
				if r.status != tt.status || code != tt.code {
					t.Errorf("got %d %s %q, want %d %s", r.status, code, msg, tt.status, tt.code)
				}
				if tt.status == 405 && r.header.Get("Allow") != "GET, POST" {
					t.Errorf("Allow = %q, want %q", r.header.Get("Allow"), "GET, POST")
				}
			})
		}
	})
}

func TestPreferBodyContentType(t *testing.T) {
	eachBackend(t, Options{}, func(t *testing.T, o *testOrg) {
		for _, upn := range []string{"alice@contoso.test", "carol@contoso.test"} {
			tok := o.token(t, upn)
			for _, want := range []string{"text", "html"} {
				prefer := `outlook.body-content-type="` + want + `"`
				r := call(t, "GET", o.d.CloudURL+"/v1.0/me/messages?$top=20&$select=body", tok,
					nil, "Prefer", prefer)
				if r.status != 200 {
					t.Fatalf("%s: got %d\n%s", upn, r.status, r.body)
				}
				if got := r.header.Get("Preference-Applied"); got != prefer {
					t.Errorf("%s: Preference-Applied = %q", upn, got)
				}
				for _, v := range r.json(t)["value"].([]any) {
					body := v.(map[string]any)["body"].(map[string]any)
					if body["contentType"] != want {
						t.Errorf("%s: body contentType %v, want %s", upn, body["contentType"], want)
					}
				}
			}
		}
	})
}

// TestMailboxInUnopenedDatabase: a running gateway whose mailbox was moved
// (by a configuration listing more databases) into a database it has not
// opened answers 503 with Retry-After, naming the store, not a 500.
func TestMailboxInUnopenedDatabase(t *testing.T) {
	o := startOrg(t, Options{})
	ctx := context.Background()
	alice, err := o.sys.cloud.Directory.Lookup(ctx, "alice@contoso.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.sys.cloud.Directory.Place(ctx, alice.ObjectID, directory.Placement{
		Premises: directory.Cloud, RecipientType: directory.UserMailbox,
		Database: "CLOUD-PG09"}); err != nil {
		t.Fatal(err)
	}
	r := call(t, "GET", o.d.CloudURL+"/v1.0/me/messages", o.token(t, "alice@contoso.test"), nil)
	code, _ := r.errorCode(t)
	if r.status != http.StatusServiceUnavailable || code != "ErrorMailboxStoreUnavailable" ||
		r.header.Get("Retry-After") == "" {
		t.Errorf("got %d %s (Retry-After %q); want 503 ErrorMailboxStoreUnavailable with "+
			"Retry-After", r.status, code, r.header.Get("Retry-After"))
	}
}
