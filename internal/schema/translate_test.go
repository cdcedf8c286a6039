package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	tests := []struct {
		name     string
		typ      *StructType
		from, to Dialect
		in, want string
	}{
		{"message to rest", Message, Graph, REST,
			`{"id":"AAMk=","subject":"Hi \"there\"","importance":"high","body":{"contentType":"html","content":"<p>x</p>"},"toRecipients":[{"emailAddress":{"name":"Carol","address":"carol@contoso.test"}}],"isRead":false,"extra":1.5e3}`,
			`{"Id":"AAMk=","Subject":"Hi \"there\"","Importance":"High","Body":{"ContentType":"HTML","Content":"<p>x</p>"},"ToRecipients":[{"EmailAddress":{"Name":"Carol","Address":"carol@contoso.test"}}],"IsRead":false,"Extra":1.5e3}`},
		{"collection to graph", Message, REST, Graph,
			`{"@odata.context":"x","value":[{"@odata.type":"#Microsoft.OutlookServices.Message","Id":"1","Importance":"Low","Flag":{"FlagStatus":"NotFlagged"}}],"@odata.nextLink":"n"}`,
			`{"@odata.context":"x","value":[{"@odata.type":"#microsoft.graph.message","id":"1","importance":"low","flag":{"flagStatus":"notFlagged"}}],"@odata.nextLink":"n"}`},
		{"sendMail body", SendMailParams, Graph, REST,
			`{ "message" : { "subject": "s", "body": {"contentType": "Text", "content": "c"} }, "saveToSentItems": "false" }`,
			`{"Message":{"Subject":"s","Body":{"ContentType":"Text","Content":"c"}},"SaveToSentItems":"false"}`},
		{"empty", Message, Graph, REST, `{}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Translate([]byte(tt.in), tt.typ, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTranslateRejectsMalformed(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":tru}`, `[1,]`, `{"a":"x}`, `{} x`, `{"a":1,}`} {
		if _, err := Translate([]byte(in), Message, Graph, REST); err == nil {
			t.Errorf("Translate(%q): got no error", in)
		}
	}
}

func FuzzTranslate(f *testing.F) {
	f.Add([]byte(`{"subject":"a","value":[{"importance":"high"}]}`))
	f.Add([]byte(`{"@odata.type":"#microsoft.graph.message","body":{"contentType":"html"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Translate(in, Message, Graph, REST)
		if err != nil {
			if json.Valid(in) && !strings.Contains(string(in), strings.Repeat("[", MaxDepth/2)) &&
				!strings.Contains(string(in), strings.Repeat("{", MaxDepth/2)) {
				t.Fatalf("valid JSON refused: %v\n%q", err, in)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not valid JSON:\n%s", out)
		}
		if _, err := Translate(out, Message, REST, Graph); err != nil {
			t.Fatalf("output of a valid document does not parse: %v\n%s", err, out)
		}
	})
}

func TestValues(t *testing.T) {
	doc := []byte(`{"@odata.type":"#x","subject":"s","body":{"contentType":"html","content":"[{\"}"},` +
		`"toRecipients":[{"emailAddress":{"address":"a@b"}}],"isRead":false,"n":-1.5e3,"z":null}`)
	var others []string
	vals, err := Message.Values(doc, func(k string, raw []byte) { others = append(others, k+"="+string(raw)) })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"subject":      `"s"`,
		"body":         `{"contentType":"html","content":"[{\"}"}`,
		"toRecipients": `[{"emailAddress":{"address":"a@b"}}]`,
		"isRead":       `false`,
	}
	for i, p := range Message.Props {
		if got := string(vals[i]); got != want[p.Graph] {
			t.Errorf("%s: got %q, want %q", p.Graph, got, want[p.Graph])
		}
	}
	if got := strings.Join(others, " "); got != `@odata.type="#x" n=-1.5e3 z=null` {
		t.Errorf("others: got %q", got)
	}
	for _, bad := range []string{`[]`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":{"b":}}`, `{"a":[1 2]}`} {
		if _, err := Message.Values([]byte(bad), nil); err == nil {
			t.Errorf("Values(%s): got no error", bad)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Translate([]byte(`{"a":`+deep+`}`), Message, Graph, REST); err == nil {
		t.Error("Translate: a document past MaxDepth was accepted")
	}
	if _, err := Message.Values([]byte(`{"a":`+deep+`}`), nil); err == nil {
		t.Error("Values: a document past MaxDepth was accepted")
	}
	ok := strings.Repeat("[", MaxDepth-2) + strings.Repeat("]", MaxDepth-2)
	if _, err := Translate([]byte(`{"a":`+ok+`}`), Message, Graph, REST); err != nil {
		t.Errorf("Translate within the limit: %v", err)
	}
}
