package graph

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Advanced queries on users (aad-advanced-queries, "Support for filter by
// properties of directory objects"). The directory serves some $filter
// operators only to a caller that asks for eventual consistency: the
// ConsistencyLevel: eventual header and, on the collection, $count=true
// (the /users/$count segment counts as such a query itself). Without them
// Graph refuses the request rather than ignoring the clause:
//
//   - ne and not, on every property;
//   - endsWith, on mail, userPrincipalName, otherMails and proxyAddresses
//     only (of which the directory holds the first two);
//   - contains is not a directory operator at all ($search is).

// endsWithProperties are the user properties endsWith may be applied to.
var endsWithProperties = []string{"mail", "userPrincipalName"}

// filterToken is one token of a $filter expression outside its string
// literals: a word (an operator, function, property or other literal), or
// one of the punctuation characters "(", ")" and ",".
type filterToken string

// filterTokens splits a $filter expression into tokens, skipping the
// contents of quoted strings (a doubled quote inside one is a quote, OData ABNF
// SQUOTE-in-string). It only classifies: the expression's grammar is
// checked by the OData parser afterwards.
func filterTokens(src string) []filterToken {
	var out []filterToken
	word := -1 // start of the current word, or -1
	flush := func(i int) {
		if word >= 0 {
			out = append(out, filterToken(src[word:i]))
			word = -1
		}
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '\'':
			flush(i)
			for i++; i < len(src); i++ {
				if src[i] == '\'' {
					if i+1 < len(src) && src[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '(', ')', ',':
			flush(i)
			out = append(out, filterToken(c))
		case ' ', '\t', '\r', '\n':
			flush(i)
		default:
			if word < 0 {
				word = i
			}
		}
	}
	flush(len(src))
	return out
}

// checkAdvancedFilter refuses a $filter that uses what the directory
// serves only in advanced queries when the request is not one (advanced
// false), and what it never serves on users, with Graph's
// Request_UnsupportedQuery (aad-advanced-queries, "Error handling").
func checkAdvancedFilter(src string, advanced bool) error {
	toks := filterTokens(src)
	for i, tok := range toks {
		op := strings.ToLower(string(tok))
		switch op {
		case "contains":
			return unsupportedClause(argumentOf(toks, i))
		case "endswith":
			prop := argumentOf(toks, i)
			if !isEndsWithProperty(prop) {
				return unsupportedClause(prop)
			}
			if !advanced {
				return needsAdvanced("endsWith")
			}
		case "ne", "not":
			if !advanced {
				return needsAdvanced(op)
			}
		}
	}
	return nil
}

// argumentOf is the first argument of the function call at toks[i], or ""
// when the call has none.
func argumentOf(toks []filterToken, i int) string {
	if i+2 < len(toks) && toks[i+1] == "(" {
		return string(toks[i+2])
	}
	return ""
}

func isEndsWithProperty(prop string) bool {
	for _, p := range endsWithProperties {
		if strings.EqualFold(p, prop) {
			return true
		}
	}
	return false
}

// needsAdvanced is Graph's answer to an operator served only in advanced
// queries, asked for without them (aad-advanced-queries, "Error handling
// for advanced queries on directory objects").
func needsAdvanced(op string) error {
	return httpserver.Errorf(http.StatusBadRequest, "Request_UnsupportedQuery",
		"Operator '%s' is not supported because the required parameters might be missing. "+
			"Try adding $count=true query parameter and ConsistencyLevel:eventual header. "+
			"Refer to https://aka.ms/graph-docs/advanced-queries for more information", op)
}

// unsupportedClause is Graph's answer to a filter clause the directory
// does not index for a property, advanced query or not.
func unsupportedClause(prop string) error {
	return httpserver.Errorf(http.StatusBadRequest, "Request_UnsupportedQuery",
		"Unsupported or invalid query filter clause specified for property '%s' of "+
			"resource 'User'.", prop)
}

// advancedQuery reports whether a request to the users collection is an
// advanced query: ConsistencyLevel: eventual and $count=true.
func advancedQuery(r *http.Request, v url.Values) bool {
	if !eventual(r) {
		return false
	}
	for k, vals := range v {
		if strings.EqualFold(k, "$count") && len(vals) == 1 && strings.EqualFold(vals[0], "true") {
			return true
		}
	}
	return false
}

// filterOption is the value of the $filter option of v (matched without
// regard to case, as odata.Parse matches it), and whether there is one.
func filterOption(v url.Values) (string, bool) {
	for k, vals := range v {
		if strings.EqualFold(k, "$filter") && len(vals) > 0 {
			return vals[0], true
		}
	}
	return "", false
}
