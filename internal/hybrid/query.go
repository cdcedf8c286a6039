package hybrid

import (
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// param is one query parameter, decoded. A list of them keeps the client's
// order, which url.Values would lose.
type param struct{ key, value string }

// parseQuery decodes a raw query string. Malformed escapes keep their raw
// text: the server on the other side judges them.
func parseQuery(raw string) []param {
	var ps []param
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		ps = append(ps, param{unescape(k), unescape(v)})
	}
	return ps
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// encodeQuery encodes params, leaving the characters OData expressions are
// made of ($ ' ( ) , / : @) readable; RFC 3986 §3.4 allows them in a query.
// Spaces become %20, which every OData server reads, unlike "+".
func encodeQuery(ps []param) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeQuery(p.key))
		b.WriteByte('=')
		b.WriteString(escapeQuery(p.value))
	}
	return b.String()
}

func escapeQuery(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~$'(),/:@*!", c) >= 0 {
			// ";" is escaped: Go servers (and some proxies) split query
			// strings on it and drop the pair it appears in.
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// translateQuery renames the property names in the OData options of a
// request addressing type t. $select lists names; $filter, $orderby and
// $expand are expressions; everything else ($top, $skip, $count, $search,
// startDateTime, …) passes unchanged.
func translateQuery(ps []param, t *schema.StructType, from, to schema.Dialect) []param {
	out := make([]param, len(ps))
	for i, p := range ps {
		switch strings.ToLower(p.key) {
		case "$select":
			p.value = translateSelect(p.value, t, from, to)
		case "$filter", "$orderby", "$expand":
			p.value = renameExpr(p.value, t, from, to)
		}
		out[i] = p
	}
	return out
}

// translateSelect renames a comma-separated $select list.
func translateSelect(list string, t *schema.StructType, from, to schema.Dialect) string {
	names := strings.Split(list, ",")
	for i, n := range names {
		names[i] = propName(strings.TrimSpace(n), t, from, to)
	}
	return strings.Join(names, ",")
}

// propName spells one property name of t in dialect to: the schema's name
// when it knows the property, else the name with its first letter changed.
func propName(name string, t *schema.StructType, from, to schema.Dialect) string {
	if t != nil {
		if p := t.Prop(from, name); p != nil {
			return p.Name(to)
		}
	}
	return caseFor(to)(name)
}

// selectList is the $select of ps in Graph spelling, for @odata.context.
func selectList(ps []param) string {
	for _, p := range ps {
		if strings.EqualFold(p.key, "$select") {
			return p.value
		}
	}
	return ""
}
