package odata

import (
	"encoding/json"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// messageDoc is a Graph-canonical message document with its members out of
// schema order, a SelectOnly property and a name the schema does not know.
const messageDoc = `{"subject":"Hi","from":{"emailAddress":{"name":"Ann","address":"a@b.c"}},` +
	`"id":"AAMk1","isRead":false,"importance":"high","changeKey":"CQAAABYA",` +
	`"uniqueBody":{"contentType":"html","content":"<p>x</p>"},"unknown":1,` +
	`"body":{"contentType":"html","content":"<p>x</p>"},"categories":[],` +
	`"receivedDateTime":"2024-01-01T00:00:00Z"}`

func props(names ...string) []*schema.Property {
	var out []*schema.Property
	for _, n := range names {
		out = append(out, schema.Message.Prop(schema.Graph, n))
	}
	return out
}

func TestShape(t *testing.T) {
	const etag = `"@odata.etag":"W/\"CQAAABYA\""`
	tests := []struct {
		name  string
		doc   string
		d     schema.Dialect
		sel   []*schema.Property
		extra []Annotation
		want  string
	}{
		{"default set in schema order", messageDoc, schema.Graph, nil, nil,
			`{` + etag + `,"id":"AAMk1","changeKey":"CQAAABYA","categories":[],` +
				`"receivedDateTime":"2024-01-01T00:00:00Z","subject":"Hi",` +
				`"importance":"high","isRead":false,` +
				`"body":{"contentType":"html","content":"<p>x</p>"},` +
				`"from":{"emailAddress":{"name":"Ann","address":"a@b.c"}}}`},
		{"select keeps id, schema order", messageDoc, schema.Graph,
			props("from", "subject"), nil,
			`{` + etag + `,"id":"AAMk1","subject":"Hi",` +
				`"from":{"emailAddress":{"name":"Ann","address":"a@b.c"}}}`},
		{"select-only property when selected", messageDoc, schema.Graph,
			props("uniqueBody"), nil,
			`{` + etag + `,"id":"AAMk1",` +
				`"uniqueBody":{"contentType":"html","content":"<p>x</p>"}}`},
		{"absent property left out", `{"id":"x","changeKey":"k"}`, schema.Graph,
			props("subject"), nil, `{"@odata.etag":"W/\"k\"","id":"x"}`},
		{"no change key, no etag", `{"id":"x","subject":"s"}`, schema.Graph, nil, nil,
			`{"id":"x","subject":"s"}`},
		{"REST names and values", messageDoc, schema.REST,
			props("from", "subject", "importance", "body"), nil,
			`{` + etag + `,"Id":"AAMk1","Subject":"Hi","Importance":"High",` +
				`"Body":{"ContentType":"HTML","Content":"<p>x</p>"},` +
				`"From":{"EmailAddress":{"Name":"Ann","Address":"a@b.c"}}}`},
		{"annotations in order", `{"@odata.type":"#microsoft.graph.eventMessage",` +
			`"id":"x","changeKey":"k"}`, schema.Graph, nil,
			[]Annotation{{Name: "@odata.id", Value: "messages('x')"}},
			`{"@odata.etag":"W/\"k\"","@odata.id":"messages('x')",` +
				`"@odata.type":"#microsoft.graph.eventMessage","id":"x","changeKey":"k"}`},
		{"extra wins over the document", `{"@odata.type":"#old","id":"x"}`, schema.Graph,
			nil, []Annotation{{Name: "@odata.type", Value: "#microsoft.graph.message"}},
			`{"@odata.type":"#microsoft.graph.message","id":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Shape([]byte(tt.doc), schema.Message, tt.d, tt.sel, tt.extra...)
			if err != nil {
				t.Fatalf("Shape: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
}

func TestShapeErrors(t *testing.T) {
	for _, doc := range []string{``, `null`, `[]`, `{"id":`, `"x"`} {
		if got, err := Shape([]byte(doc), schema.Message, schema.Graph, nil); err == nil {
			t.Errorf("Shape(%q): got %s, want an error", doc, got)
		}
	}
}
