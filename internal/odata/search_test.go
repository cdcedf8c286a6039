package odata

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

func TestParseSearchOption(t *testing.T) {
	tests := []struct {
		raw       string
		search    string
		skip, top int
		storeTop  int
	}{
		{`$search="pizza"`, "pizza", 0, 10, 11},
		{`$search=pizza`, "pizza", 0, 10, 11},
		{`$SEARCH="from:ann@contoso.test AND subject:lunch"&$top=5`,
			"from:ann@contoso.test AND subject:lunch", 0, 5, 6},
		{`$search="subject:\"pizza party\""`, `subject:"pizza party"`, 0, 10, 11},
		{`$search="a \\\\ b"`, `a \\ b`, 0, 10, 11},
		{`$search="pizza"&$skiptoken=` + encodeSkipToken(20) + `&$top=10`, "pizza", 20, 10, 11},
		// The 1,000th result is the last: the store is asked for no more.
		{`$search="pizza"&$skiptoken=` + encodeSkipToken(995) + `&$top=10`, "pizza", 995, 10, 5},
		{`$search="pizza"&$select=subject&$count=true`, "pizza", 0, 10, 11},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			q, err := Parse(mustQuery(t, strings.ReplaceAll(tt.raw, "+", "%2B")),
				schema.Message, schema.Graph, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if !q.Searching() || q.Store.Search != tt.search {
				t.Errorf("search: got %q, want %q", q.Store.Search, tt.search)
			}
			if q.Skip != tt.skip || q.Top != tt.top || q.Store.Top != tt.storeTop ||
				q.Store.Skip != tt.skip {
				t.Errorf("got skip %d top %d store top %d skip %d; want %d %d %d %d",
					q.Skip, q.Top, q.Store.Top, q.Store.Skip, tt.skip, tt.top, tt.storeTop, tt.skip)
			}
		})
	}
}

func TestParseSearchOptionErrors(t *testing.T) {
	tests := []struct{ raw, code, msg string }{
		{`$search="pizza"&$orderby=subject`, CodeSearchWithOrderBy,
			"The query parameter '$orderBy' is not supported with '$search'."},
		{`$search="pizza"&$skip=10`, CodeSearchWithSkip,
			"The query parameter '$skip' is not supported with '$search'."},
		{`$search="pizza"&$filter=isRead eq true`, CodeSearchWithFilter,
			"The query parameter '$filter' is not supported with '$search'."},
		{`$search=""`, CodeBadRequest, "Syntax error in $search: the query has no word to search for."},
		{`$search="NOT pizza"`, CodeBadRequest, "Syntax error in $search: NOT needs a term"},
		{`$search="(pizza"`, CodeBadRequest,
			"Syntax error in $search: a closing parenthesis is missing."},
		{`$search="size:1..500"`, CodeBadRequest,
			`Syntax error in $search: the property "size" is not searchable here.`},
		{`$search="pizza"&$search="x"`, CodeBadRequest,
			"The query option '$search' was specified more than once."},
		{`$skiptoken=` + encodeSkipToken(10), CodeBadRequest,
			"The query parameter '$skiptoken' is not supported."},
		{`$search="pizza"&$skiptoken=abc`, CodeBadRequest,
			"Invalid value for query option '$skiptoken'."},
		{`$search="pizza"&$skiptoken=` + encodeSkipToken(MaxSearchResults), CodeBadRequest,
			"Invalid value for query option '$skiptoken'."},
		{`$search=` + strings.Repeat("a", 4097), CodeBadRequest,
			"The query exceeds the limit of 4096 characters in $search."},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := Parse(mustQuery(t, tt.raw), schema.Message, schema.Graph, DefaultLimits)
			checkError(t, err, tt.code, tt.msg)
		})
	}
	_, err := Parse(mustQuery(t, `$search="x"`), schema.MailFolder, schema.Graph, DefaultLimits)
	checkError(t, err, CodeBadRequest, "The query option '$search' on mailFolder collections")
}

// TestSearchPagingWalk follows the next links of a search over a
// simulated store of 2,500 matches: pages link by $skiptoken, never by
// $skip, and the walk stops after MaxSearchResults results.
func TestSearchPagingWalk(t *testing.T) {
	const matches = 2500
	link := `https://h/v1.0/me/messages?$search="pizza"&$top=300`
	seen := 0
	for pages := 0; link != ""; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(u.Query(), schema.Message, schema.Graph, DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		if q.Store.Skip != seen {
			t.Fatalf("page %d: got offset %d, want %d", pages, q.Store.Skip, seen)
		}
		n := min(q.Store.Top, matches-q.Store.Skip)
		page, more := Page(make([]int, n), q)
		seen += len(page)
		link = ""
		if more {
			link = NextLink(u, q)
			if strings.Contains(link, "$skip=") || !strings.Contains(link, "$skiptoken=") {
				t.Fatalf("next link %s: want $skiptoken and no $skip", link)
			}
		}
	}
	if seen != MaxSearchResults {
		t.Errorf("got %d results, want %d", seen, MaxSearchResults)
	}
}

// FuzzSearchOption feeds arbitrary $search values and skip tokens to
// Parse: a refusal is a 400 *httpserver.Error, an accepted search is one
// the store reads, and an accepted token stays within MaxSearchResults.
func FuzzSearchOption(f *testing.F) {
	for _, s := range []string{`"pizza"`, `"from:a@b.c OR subject:\"x y\""`, `"(a`, `""`,
		`NOT x`, `"a\\"`} {
		f.Add(s, encodeSkipToken(10))
	}
	f.Fuzz(func(t *testing.T, search, token string) {
		v := url.Values{"$search": {search}, "$skiptoken": {token}}
		q, err := Parse(v, schema.Message, schema.Graph, DefaultLimits)
		if err != nil {
			var he *httpserver.Error
			if !errors.As(err, &he) || he.Status != http.StatusBadRequest {
				t.Fatalf("Parse: got %v, want a 400 *httpserver.Error", err)
			}
			return
		}
		if _, err := store.ParseSearch(q.Store.Search); err != nil {
			t.Fatalf("accepted %q, which the store refuses: %v", search, err)
		}
		if q.Skip <= 0 || q.Skip+q.Store.Top > MaxSearchResults {
			t.Fatalf("token %q: offset %d, store top %d", token, q.Skip, q.Store.Top)
		}
	})
}
