package odata

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// FuzzParseFilter feeds arbitrary $filter, $orderby and $select values to
// Parse. It must never panic; a refusal must be a 400 *httpserver.Error;
// an accepted filter must have one argument per placeholder and must run
// on SQLite against a table built from the schema.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"subject eq 'O''Brien' and not(isRead eq true)",
		"receivedDateTime ge 2017-04-01 or receivedDateTime lt 2024-05-01T10:20:30.123Z",
		"startswith(subject,'Re:') or contains(from/emailAddress/address,'%_\\')",
		"importance eq Microsoft.OutlookServices.Importance'High'",
		"subject in ('a','b') and flag/flagStatus ne null",
		"categories/any(c:c eq 'Red')",
		"((isRead))", "not not isDraft", "'''' eq subject", "subject eq",
	} {
		f.Add(s, "receivedDateTime desc,subject", "subject,from", false)
	}
	db := sqliteMessages(f, []string{`{"id":"m1","subject":"x","isRead":true}`,
		`{"id":"m2"}`})

	f.Fuzz(func(t *testing.T, filter, orderby, sel string, rest bool) {
		d := schema.Graph
		if rest {
			d = schema.REST
		}
		v := url.Values{"$filter": {filter}, "$orderby": {orderby}, "$select": {sel}}
		q, err := Parse(v, schema.Message, d, DefaultLimits)
		if err != nil {
			var he *httpserver.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Fatalf("Parse: got %v, want a 400 *httpserver.Error", err)
			}
			return
		}
		if n := strings.Count(q.Store.Where, "?"); n != len(q.Store.Args) {
			t.Fatalf("%q: %d placeholders, %d args", q.Store.Where, n, len(q.Store.Args))
		}
		rows, err := db.Query("SELECT id FROM messages WHERE "+q.Store.Where,
			q.Store.Args...)
		if err != nil {
			t.Fatalf("filter %q compiled to %q, which SQLite refuses: %v",
				filter, q.Store.Where, err)
		}
		rows.Close()
	})
}

// FuzzShape feeds arbitrary documents and selections to Shape. It must
// never panic; for a JSON object in the Graph dialect it must succeed, and
// every output must be a JSON object holding only annotations and schema
// properties, with the document's id.
func FuzzShape(f *testing.F) {
	f.Add([]byte(messageDoc), uint64(0), false)
	f.Add([]byte(messageDoc), uint64(1<<10|1<<25), true)
	f.Add([]byte(`{"id":"x","changeKey":"\"<>&","@odata.type":"#microsoft.graph.eventMessage"}`),
		uint64(3), true)
	f.Add([]byte(`{"from":{"emailAddress":5},"importance":"HIGH","body":[]}`), uint64(1<<63),
		true)

	f.Fuzz(func(t *testing.T, doc []byte, mask uint64, rest bool) {
		d := schema.Graph
		if rest {
			d = schema.REST
		}
		var sel []*schema.Property
		if mask != 0 {
			for i, p := range schema.Message.Props {
				if mask&(1<<(i%64)) != 0 {
					sel = append(sel, p)
				}
			}
		}
		out, err := Shape(doc, schema.Message, d, sel)
		var in map[string]json.RawMessage
		isObject := json.Unmarshal(doc, &in) == nil && in != nil
		if err != nil {
			if isObject && !rest {
				t.Fatalf("Shape(%q): %v", doc, err)
			}
			return
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("Shape(%q) = %q: not a JSON object: %v", doc, out, err)
		}
		for k := range got {
			if !strings.HasPrefix(k, "@") && schema.Message.Prop(d, k) == nil {
				t.Errorf("Shape(%q) = %q: unknown member %q", doc, out, k)
			}
		}
		if _, ok := in["id"]; ok {
			if _, ok := got[schema.Message.Prop(schema.Graph, keyProperty).Name(d)]; !ok {
				t.Errorf("Shape(%q) = %q: id missing", doc, out)
			}
		}
	})
}
