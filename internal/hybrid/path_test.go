package hybrid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

func TestTranslatePath(t *testing.T) {
	tests := []struct {
		in      []string
		want    string
		context string
		typ     *schema.StructType
	}{
		{[]string{"messages"}, "Messages", "messages", schema.Message},
		{[]string{"MESSAGES", "AAMk=", "attachments"}, "Messages/AAMk=/Attachments",
			"messages('AAMk%3D')/attachments", nil},
		{[]string{"mailFolders", "inbox", "childFolders", "a/b", "messages"},
			"MailFolders/inbox/ChildFolders/a%2Fb/Messages",
			"mailFolders('inbox')/childFolders('a%2Fb')/messages", schema.Message},
		{[]string{"mailFolders", "inbox"}, "MailFolders/inbox", "mailFolders/$entity",
			schema.MailFolder},
		{[]string{"mailFolders('o''neil')", "childFolders"}, "MailFolders/o%27neil/ChildFolders",
			"mailFolders('o%27%27neil')/childFolders", schema.MailFolder},
		{[]string{"mailFolders", "delta"}, "MailFolders/Delta", "mailFolders/delta",
			schema.MailFolder},
		{[]string{"messages", "x", "$value"}, "Messages/x/$value", "messages", schema.Message},
		{[]string{"messages", "x", "microsoft.graph.eventMessage"},
			"Messages/x/Microsoft.OutlookServices.EventMessage",
			"messages('x')/microsoft.graph.eventMessage", nil},
		{[]string{"calendar", "events"}, "Calendar/Events", "calendar/events", nil},
		{[]string{"messages", "send"}, "Messages/send", "messages/$entity", schema.Message},
		{[]string{"messages", "x", "send"}, "Messages/x/Send", "messages('x')/send", schema.Message},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, "/"), func(t *testing.T) {
			res := translatePath(tt.in, schema.REST)
			if got := strings.Join(res.segs, "/"); got != tt.want {
				t.Errorf("path: got %s, want %s", got, tt.want)
			}
			if got := res.contextPath(""); got != tt.context {
				t.Errorf("context: got %s, want %s", got, tt.context)
			}
			if res.typ != tt.typ {
				t.Errorf("type: got %v, want %v", res.typ, tt.typ)
			}
		})
	}
}

func TestLink(t *testing.T) {
	a := answer{base: gw, target: alice}
	tests := []struct{ in, want string }{
		{"https://x/api/v2.0/me/messages?$skip=10",
			gw + "/v1.0/users/alice@contoso.test/messages?$skip=10"},
		{"https://x/api/v2.0/Users/alice%40contoso.test/MailFolders/Inbox/Messages?%24orderby=ReceivedDateTime+desc&%24skip=5",
			gw + "/v1.0/users/alice@contoso.test/mailFolders/Inbox/messages?$orderby=receivedDateTime%20desc&$skip=5"},
		{"/api/v2.0/Users('a')/Messages('AAMk%2F1')/Attachments?$select=Name",
			gw + "/v1.0/users/alice@contoso.test/messages/AAMk%2F1/attachments?$select=name"},
		{"https://x/api/v2.0/Users('a')/CalendarView?startDateTime=2026-01-01&$skip=10",
			gw + "/v1.0/users/alice@contoso.test/calendarView?startDateTime=2026-01-01&$skip=10"},
	}
	for _, tt := range tests {
		got, err := a.link(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("link(%s):\ngot  %s, %v\nwant %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"https://x/api/v1.0/me/messages", "https://x/api/v2.0/groups/x",
		"%zz"} {
		if got, err := a.link(bad); err == nil {
			t.Errorf("link(%s): got %s, want an error", bad, got)
		}
	}
}

// editAnnotations runs the annotation editing of an answer's translation
// alone (no type: names keep their spelling when already camelCase).
func editAnnotations(doc []byte, fn schema.AnnotationFunc) ([]byte, error) {
	return schema.TranslateEdit(doc, nil, schema.Graph, schema.Graph, fn)
}

func TestEditAnnotationsMalformed(t *testing.T) {
	keep := func(int, string, []byte) ([]byte, bool, error) { return nil, false, nil }
	for _, in := range []string{``, `{`, `{"a":1`, `{"@odata.id":`, `[1,`, `{"a" 1}`} {
		if _, err := editAnnotations([]byte(in), keep); err == nil {
			t.Errorf("editAnnotations(%q): got no error", in)
		}
	}
	out, err := editAnnotations([]byte(`{"@odata.id":"x","a":[{"b@odata.navigationLink":"y","c":1},[]],"d":{}}`), keep)
	if want := `{"a":[{"c":1},[]],"d":{}}`; err != nil || string(out) != want {
		t.Errorf("got %s, %v; want %s", out, err, want)
	}
}

// page25 is a v2.0 page of 25 messages as Exchange answers a list.
func page25() []byte {
	var b strings.Builder
	b.WriteString(`{"@odata.context":"https://mail.contoso.test/api/v2.0/$metadata#Users('alice%40contoso.test')/Messages","value":[`)
	for i := range 25 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"@odata.id":"https://mail.contoso.test/api/v2.0/Users('a')/Messages('AAMkAGI2TG%d=')",`+
			`"@odata.etag":"W/\"CQAAABYAAAC%d\"","Id":"AAMkAGI2TG%d=","CreatedDateTime":"2026-01-0%dT10:00:00Z",`+
			`"LastModifiedDateTime":"2026-01-01T10:00:00Z","ChangeKey":"CQAAABYAAAC","Categories":["Red"],`+
			`"ReceivedDateTime":"2026-01-01T10:00:00Z","SentDateTime":"2026-01-01T09:59:00Z","HasAttachments":false,`+
			`"InternetMessageId":"<m%d@contoso.test>","Subject":"Quarterly report %d","BodyPreview":"Please find",`+
			`"Importance":"Normal","ParentFolderId":"AQMkInbox","ConversationId":"AAQkConv",`+
			`"IsDeliveryReceiptRequested":false,"IsReadReceiptRequested":false,"IsRead":true,"IsDraft":false,`+
			`"WebLink":"https://mail.contoso.test/owa/?ItemID=AAMk","InferenceClassification":"Focused",`+
			`"Body":{"ContentType":"HTML","Content":"<html><body><p>Please find the report attached.</p></body></html>"},`+
			`"Sender":{"EmailAddress":{"Name":"Bob","Address":"bob@contoso.test"}},`+
			`"From":{"EmailAddress":{"Name":"Bob","Address":"bob@contoso.test"}},`+
			`"ToRecipients":[{"EmailAddress":{"Name":"Alice","Address":"alice@contoso.test"}}],`+
			`"CcRecipients":[],"BccRecipients":[],"ReplyTo":[],"Flag":{"FlagStatus":"NotFlagged"}}`,
			i, i, i, i%9+1, i, i)
	}
	b.WriteString(`],"@odata.nextLink":"https://mail.contoso.test/api/v2.0/Users('alice%40contoso.test')/Messages?%24top=25&%24skip=25"}`)
	return []byte(b.String())
}

// BenchmarkTranslateList25 measures the answer side of a proxied list: a
// 25-message v2.0 page to Graph names, context and nextLink rebuilt.
func BenchmarkTranslateList25(b *testing.B) {
	body := page25()
	res := translatePath([]string{"messages"}, schema.REST)
	a := answer{res: &res, target: alice, base: gw}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.translate(body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestTranslateList25(t *testing.T) {
	res := translatePath([]string{"messages"}, schema.REST)
	a := answer{res: &res, target: alice, base: gw}
	out, err := a.translate(page25())
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, bad := range []string{"@odata.id", "mail.contoso.test/api", `"Subject"`, "OutlookServices"} {
		if strings.Contains(s, bad) {
			t.Errorf("answer holds %q", bad)
		}
	}
	if n := strings.Count(s, `"subject":"Quarterly`); n != 25 {
		t.Errorf("got %d translated subjects, want 25", n)
	}
	if !strings.Contains(s, `"@odata.nextLink":"`+gw+`/v1.0/users/alice@contoso.test/messages?$top=25&$skip=25"`) {
		t.Errorf("nextLink not rebuilt: %s", s[len(s)-200:])
	}
}

// FuzzLink checks that rebuilding links of the other premises never
// panics and yields only gateway URLs.
func FuzzLink(f *testing.F) {
	f.Add("https://x/api/v2.0/Users('a')/MailFolders('inbox')/Messages?%24filter=Importance+eq+'High'&%24skip=5")
	f.Add("/api/v2.0/me/messages/AAMk%2F1/attachments?$select=Name")
	f.Add("https://x/api/v2.0/users/a/x(")
	a := answer{base: gw, target: alice}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := a.link(in)
		if err == nil && !strings.HasPrefix(got, gw+"/v1.0/users/alice@contoso.test") {
			t.Fatalf("link(%q) = %q, not on the gateway", in, got)
		}
	})
}

// FuzzEditAnnotations checks the annotation editor on arbitrary documents:
// no panic, and a document without annotations comes out as it went in.
func FuzzEditAnnotations(f *testing.F) {
	f.Add([]byte(`{"@odata.id":"x","value":[{"a":1,"b@odata.navigationLink":"y"}],"c":"@"}`))
	f.Add([]byte(`[1,{"a":[true,null,"s\"@"]}]`))
	drop := func(int, string, []byte) ([]byte, bool, error) { return nil, false, nil }
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := editAnnotations(in, drop)
		// Translation camel-cases names, so only all-lower-case input must
		// come out unchanged.
		if err != nil || bytes.IndexByte(in, '@') >= 0 || !json.Valid(in) ||
			bytes.ContainsAny(in, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			return
		}
		var a, b any
		if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil {
			t.Fatalf("output %q of valid %q is not JSON", out, in)
		}
		if !cmp.Equal(a, b) {
			t.Fatalf("document changed: %q → %q", in, out)
		}
	})
}
