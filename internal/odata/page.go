package odata

import (
	"net/url"
	"strconv"
	"strings"
)

// Page trims the extra row the store was asked for (Query.Store.Top is
// Top+1) and says whether there is a next page.
func Page[T any](items []T, q *Query) (page []T, more bool) {
	if q.Top >= 0 && len(items) > q.Top {
		return items[:q.Top], true
	}
	return items, false
}

// NextLink returns the @odata.nextLink for the page after q: reqURL with
// $skip advanced by q.Top and $top set to q.Top. Every other query
// parameter is kept byte for byte, so that the client's $filter, $select
// and $orderby hold on every page (graph-api.md §3.3: the link carries the
// original options and is followed unchanged). reqURL should be absolute,
// as Graph's links are.
func NextLink(reqURL *url.URL, q *Query) string {
	if reqURL == nil {
		return ""
	}
	u := *reqURL
	var parts []string
	for _, p := range strings.Split(u.RawQuery, "&") {
		if p == "" {
			continue
		}
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if k := strings.ToLower(key); k == optSkip || k == optTop || k == optSkipToken {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, optTop+"="+strconv.Itoa(q.Top))
	if q.Searching() || q.skipToken {
		// A search's pages, and a directory's, are linked by $skiptoken
		// (search.go, Limits.SkipTokenPaging).
		parts = append(parts, optSkipToken+"="+encodeSkipToken(q.Skip+q.Top))
	} else {
		parts = append(parts, optSkip+"="+strconv.Itoa(q.Skip+q.Top))
	}
	u.RawQuery = strings.Join(parts, "&")
	u.ForceQuery = false
	return u.String()
}
