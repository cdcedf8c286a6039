package odata

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return v
}

func TestParsePaging(t *testing.T) {
	tests := []struct {
		raw                 string
		lim                 Limits
		top, skip           int
		count               bool
		storeTop, storeSkip int
	}{
		{"", DefaultLimits, 10, 0, false, 11, 0},
		{"$top=5&$skip=20&$count=true", DefaultLimits, 5, 20, true, 6, 20},
		{"$TOP=1000&$Count=TRUE", DefaultLimits, 1000, 0, true, 1001, 0},
		{"$count=false&$skip=0", DefaultLimits, 10, 0, false, 11, 0},
		{"startDateTime=2020-01-01&top=7", DefaultLimits, 10, 0, false, 11, 0},
		{"$top=50", ExchangeLimits, 50, 0, false, 51, 0},
		{"", Limits{}, 10, 0, false, 11, 0},
		{"", Limits{DefaultTop: 25, MaxTop: 20}, 20, 0, false, 21, 0},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := Parse(mustQuery(t, tt.raw), schema.Message, schema.Graph, tt.lim)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := []any{q.Top, q.Skip, q.Count, q.Store.Top, q.Store.Skip}
			want := []any{tt.top, tt.skip, tt.count, tt.storeTop, tt.storeSkip}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("top, skip, count, store top, store skip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOptionErrors(t *testing.T) {
	tests := []struct {
		raw  string
		d    schema.Dialect
		lim  Limits
		code string
		msg  string
	}{
		{"$top=0", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value '0' for query option '$top': an integer from 1 to 1000 is expected."},
		{"$top=1001", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value '1001' for query option '$top'"},
		{"$top=51", schema.REST, ExchangeLimits, CodeBadRequest,
			"Invalid value '51' for query option '$top': an integer from 1 to 50 is expected."},
		{"$top=ten", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value 'ten' for query option '$top'"},
		{"$top=99999999999999999999", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value '99999999999999999999' for query option '$top'"},
		{"$skip=-1", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value '-1' for query option '$skip'"},
		{"$skip=10000001", schema.Graph, DefaultLimits, CodeBadRequest,
			"The query exceeds the limit of 10000000 items skipped by $skip."},
		{"$count=yes", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid value 'yes' for query option '$count'"},
		{"$foo=1", schema.Graph, DefaultLimits, CodeBadRequest,
			"The query parameter '$foo' is not supported."},
		{"$top=1&$top=2", schema.Graph, DefaultLimits, CodeBadRequest,
			"The query option '$top' was specified more than once."},
		{"$top=1&$TOP=2", schema.Graph, DefaultLimits, CodeBadRequest,
			"The query option '$top' was specified more than once."},
		{"$search=\"pizza\"&$filter=isRead", schema.Graph, DefaultLimits,
			CodeSearchWithFilter, "The query parameter '$filter' is not supported with '$search'."},
		{"$expand=attachments", schema.Graph, DefaultLimits, CodeBadRequest,
			"The query option '$expand' is not supported."},
		{"$select=subject,foo", schema.Graph, DefaultLimits, CodeParseURI,
			"Could not find a property named 'foo' on type 'microsoft.graph.message'."},
		{"$select=Subject,Foo", schema.REST, ExchangeLimits, CodeParseURI,
			"Could not find a property named 'Foo' on type 'Microsoft.OutlookServices.Message'."},
		{"$select=from/emailAddress", schema.Graph, DefaultLimits, CodeParseURI,
			"Could not find a property named 'from/emailAddress'"},
		{"$select=subject,,from", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid $select: a property name is missing"},
		{"$orderby=foo", schema.Graph, DefaultLimits, CodeParseURI,
			"Could not find a property named 'foo' on type 'microsoft.graph.message'."},
		{"$orderby=bodyPreview", schema.Graph, DefaultLimits, CodeInvalidProperty,
			"The property 'bodyPreview' does not support sorting."},
		{"$orderby=parentFolderId desc", schema.Graph, DefaultLimits, CodeInvalidProperty,
			"The property 'parentFolderId' does not support sorting."},
		{"$orderby=subject,", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid $orderby query option"},
		{"$orderby='x'", schema.Graph, DefaultLimits, CodeBadRequest,
			"Invalid $orderby query option"},
		{"$orderby=" + strings.Repeat("subject,", 16) + "subject", schema.Graph,
			DefaultLimits, CodeBadRequest, "The query exceeds the limit of 16 keys in $orderby."},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := Parse(mustQuery(t, tt.raw), schema.Message, tt.d, tt.lim)
			checkError(t, err, tt.code, tt.msg)
		})
	}
}

func TestParseSelect(t *testing.T) {
	tests := []struct {
		raw  string
		d    schema.Dialect
		want []string // Graph names; nil for the default set
	}{
		{"", schema.Graph, nil},
		{"$select=subject,from", schema.Graph, []string{"subject", "from"}},
		{"$select= from , Subject ,from", schema.Graph, []string{"from", "subject"}},
		{"$select=Subject,IsRead", schema.REST, []string{"subject", "isRead"}},
		{"$select=*", schema.Graph, nil},
		{"$select=uniqueBody", schema.Graph, []string{"uniqueBody"}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := Parse(mustQuery(t, tt.raw), schema.Message, tt.d, DefaultLimits)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var got []string
			for _, p := range q.Select {
				got = append(got, p.Graph)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("select (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectStarKeepsSelectOnly(t *testing.T) {
	q, err := Parse(mustQuery(t, "$select=*,uniqueBody"), schema.Message, schema.Graph,
		DefaultLimits)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var names []string
	for _, p := range q.Select {
		names = append(names, p.Graph)
		if p.SelectOnly && p != schema.Message.Prop(schema.Graph, "uniqueBody") {
			t.Errorf("got SelectOnly property %s, not asked for", p.Graph)
		}
	}
	if len(names) != len(schema.Message.Props)-1 {
		t.Errorf("got %d properties %v, want all but internetMessageHeaders", len(names), names)
	}
}

func TestSelectList(t *testing.T) {
	sel := []*schema.Property{schema.Message.Prop(schema.Graph, "subject"),
		schema.Message.Prop(schema.Graph, "from")}
	for d, want := range map[schema.Dialect]string{schema.Graph: "subject,from",
		schema.REST: "Subject,From"} {
		if got := SelectList(sel, d); got != want {
			t.Errorf("SelectList(%v): got %q, want %q", d, got, want)
		}
	}
}

func TestParseOrderBy(t *testing.T) {
	tests := []struct {
		raw  string
		d    schema.Dialect
		want []store.Order
	}{
		{"$orderby=receivedDateTime desc", schema.Graph,
			[]store.Order{{Column: "received", Desc: true}}},
		{"$orderby=from/emailAddress/name asc,subject DESC, isRead", schema.Graph,
			[]store.Order{{Column: "from_name"}, {Column: "subject", Desc: true},
				{Column: "is_read"}}},
		{"$orderby=Importance,Flag/FlagStatus desc", schema.REST,
			[]store.Order{{Column: "importance"}, {Column: "flag_status", Desc: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := Parse(mustQuery(t, tt.raw), schema.Message, tt.d, DefaultLimits)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, q.Store.OrderBy); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			q.DefaultOrder(store.Order{Column: "id"})
			if diff := cmp.Diff(tt.want, q.Store.OrderBy); diff != "" {
				t.Errorf("DefaultOrder replaced $orderby (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDefaultOrder(t *testing.T) {
	q, err := Parse(url.Values{}, schema.Message, schema.Graph, DefaultLimits)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []store.Order{{Column: "received", Desc: true}}
	q.DefaultOrder(want...)
	if diff := cmp.Diff(want, q.Store.OrderBy); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestFilterLimitsLeaveRoom checks that the default limits accept the
// generated filters they are meant to allow.
func TestFilterLimitsLeaveRoom(t *testing.T) {
	terms := make([]string, 90)
	for i := range terms {
		terms[i] = "id eq 'AAMkAGI2TG93AAA='"
	}
	f := strings.Join(terms, " or ")
	q, err := Parse(url.Values{"$filter": {f}}, schema.Message, schema.Graph, DefaultLimits)
	if err != nil {
		t.Fatalf("Parse of %d ORed terms: %v", len(terms), err)
	}
	if len(q.Store.Args) != len(terms) {
		t.Errorf("got %d args, want %d", len(q.Store.Args), len(terms))
	}
}
