package schema

import "testing"

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
			return
		}
		if _, err := Translate(out, Message, REST, Graph); err != nil {
			t.Fatalf("output of a valid document does not parse: %v\n%s", err, out)
		}
	})
}
