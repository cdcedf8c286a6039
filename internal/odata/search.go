package odata

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// $search on messages (learn.microsoft.com/graph/search-query-parameter,
// graph-api.md §3.2). The value is a KQL query, usually in double quotes:
// $search="pizza", $search="from:ann@contoso.com AND subject:lunch". The
// quotes are taken off (a \" inside stands for a quote, \\ for a
// backslash) and the query is handed to the store as it is
// (store.Query.Search, whose syntax is the KQL subset the store indexes).
//
// What Graph does and this package copies:
//   - only message collections are searched;
//   - $search refuses $filter (SearchWithFilter) and $orderby
//     (SearchWithOrderBy); the results come newest sent first (the caller
//     sets that order: see Query.Searching);
//   - a search returns at most MaxSearchResults messages;
//   - pages are linked with an opaque $skiptoken, and a client's own $skip
//     is refused ("$search and $skip cannot be used together").
//
// The code of the $skip refusal is written by analogy with the two
// documented ones; only their messages are attested.

// MaxSearchResults is the most messages a $search returns, over all pages
// (Graph: "A $search request returns up to 1,000 results").
const MaxSearchResults = 1000

// Error codes of the refusals of option combinations with $search.
const (
	CodeSearchWithFilter  = "SearchWithFilter"
	CodeSearchWithOrderBy = "SearchWithOrderBy"
	CodeSearchWithSkip    = "SearchWithSkip"
)

const optSkipToken = "$skiptoken"

// Searching reports whether q has a $search: the caller orders by sent
// date, newest first.
func (q *Query) Searching() bool { return q.Store.Search != "" }

// parseSearch reads $search (and the $skiptoken of its pages) into q.
func (q *Query) parseSearch(opts map[string]string, t *schema.StructType, lim Limits) error {
	s, ok := opts[optSearch]
	if !ok {
		if _, ok := opts[optSkipToken]; ok && !q.skipToken {
			return badRequest("The query parameter '$skiptoken' is not supported.")
		}
		return nil
	}
	if t != schema.Message {
		return unsupported("The query option '$search' on " + t.Graph + " collections")
	}
	for _, c := range []struct{ opt, code, name string }{
		{optFilter, CodeSearchWithFilter, "$filter"},
		{optOrderBy, CodeSearchWithOrderBy, "$orderBy"},
		{optSkip, CodeSearchWithSkip, "$skip"},
	} {
		if _, ok := opts[c.opt]; ok {
			return httpserver.Errorf(http.StatusBadRequest, c.code,
				"The query parameter '%s' is not supported with '$search'.", c.name)
		}
	}
	if len(s) > lim.MaxFilterLength {
		return limitExceeded("characters in $search", lim.MaxFilterLength)
	}
	kql := unquoteSearch(s)
	if _, err := store.ParseSearch(kql); err != nil {
		return httpserver.Wrap(err, http.StatusBadRequest, CodeBadRequest,
			"Syntax error in $search: "+strings.TrimPrefix(err.Error(),
				store.ErrSearchSyntax.Error()+": ")+".")
	}
	q.Store.Search = kql
	if tok, ok := opts[optSkipToken]; ok {
		n, err := decodeSkipToken(tok, MaxSearchResults)
		if err != nil {
			return httpserver.Wrap(err, http.StatusBadRequest, CodeBadRequest,
				"Invalid value for query option '$skiptoken'.")
		}
		q.Skip = n
	}
	return nil
}

// unquoteSearch takes the double quotes off a $search value. A value
// without them is KQL as it stands, as OData also allows.
func unquoteSearch(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// limitSearch caps the store's page so that no result past
// MaxSearchResults is returned; Page then finds no next page there.
func (q *Query) limitSearch() {
	if q.Searching() && q.Skip+q.Store.Top > MaxSearchResults {
		q.Store.Top = MaxSearchResults - q.Skip
	}
}

// skipTokenPrefix marks our tokens, so that another server's token is
// refused rather than misread.
const skipTokenPrefix = "hgs1:"

var errSkipToken = errors.New("not a $skiptoken of this server")

// encodeSkipToken is the $skiptoken of the page starting at offset n.
func encodeSkipToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(skipTokenPrefix + strconv.Itoa(n)))
}

// decodeSkipToken reads an offset from encodeSkipToken, which is always
// below limit (the results a search may return, the largest skip).
func decodeSkipToken(tok string, limit int) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, errors.Join(errSkipToken, err)
	}
	rest, ok := strings.CutPrefix(string(b), skipTokenPrefix)
	if !ok {
		return 0, errSkipToken
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n <= 0 || n >= limit {
		return 0, errSkipToken
	}
	return n, nil
}
