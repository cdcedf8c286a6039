package odata

import (
	"net/http"
	"strings"

	"github.com/CiscoM31/godata"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// likeEscaper escapes LIKE's wildcards and its escape character, which is
// declared with ESCAPE '\' in every LIKE this package writes.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// function compiles startswith, endswith and contains over a text column
// as LIKE patterns.
func (c *compiler) function(n *godata.ParseNode, name string, neg bool) error {
	var prefix, suffix string
	switch name {
	case "startswith":
		suffix = "%"
	case "endswith":
		prefix = "%"
	case "contains":
		prefix, suffix = "%", "%"
	default:
		return unsupported("The function '" + name + "'")
	}
	if c.noStringFunctions {
		// Exchange 2016's v2.0 refuses them and points at $search
		// (exchange-hybrid.md §1.4).
		return httpserver.Errorf(http.StatusBadRequest, CodeInvalidFilter,
			"'contains' and 'startswith' are not supported for filtering. Use Search instead.")
	}
	if len(n.Children) != 2 || !isPath(n.Children[0]) ||
		!isKind(n.Children[1], godata.ExpressionTokenString) {
		return invalidFilter(nil, "'"+name+"' needs a property and a quoted string.")
	}
	col, prop, err := c.column(n.Children[0])
	if err != nil {
		return err
	}
	if col.Kind != schema.String {
		return badRequest("The function '%s' cannot be applied to the property '%s' of type '%s'.",
			name, prop, edmType(col, c.d))
	}

	pattern := prefix + likeEscaper.Replace(c.stringValue(n.Children[1].Token.Value)) + suffix
	if neg {
		c.sql.WriteString("(" + col.Name + " IS NULL OR " + col.Name + ` NOT LIKE ? ESCAPE '\')`)
	} else {
		c.sql.WriteString(col.Name + ` LIKE ? ESCAPE '\'`)
	}
	c.args = append(c.args, pattern)
	return nil
}

// in compiles "p in ('a','b')": p equals one of the listed values.
func (c *compiler) in(n *godata.ParseNode, neg bool) error {
	if len(n.Children) != 2 || !isPath(n.Children[0]) {
		return invalidFilter(nil, "'in' needs a property and a list of values.")
	}
	col, name, err := c.column(n.Children[0])
	if err != nil {
		return err
	}
	if col.Kind == schema.DateTimeOffset {
		return unsupported("The operator 'in' on date-time properties")
	}
	list := n.Children[1]
	items := list.Children
	if list.Token == nil || list.Token.Type != godata.TokenTypeListExpr {
		items = []*godata.ParseNode{list} // "p in ('a')" may come back unwrapped
	}

	marks := make([]string, len(items))
	for i, it := range items {
		if isKind(it, godata.ExpressionTokenNull) || isPath(it) {
			return badRequest("The list of 'in' on '%s' may hold only literal values.", name)
		}
		v, err := c.literal(col, it, "in")
		if err != nil {
			return err
		}
		c.args = append(c.args, v)
		marks[i] = "?"
	}
	set := "(" + strings.Join(marks, ", ") + ")"
	if neg {
		c.sql.WriteString("(" + col.Name + " IS NULL OR " + col.Name + " NOT IN " + set + ")")
	} else {
		c.sql.WriteString(col.Name + " IN " + set)
	}
	return nil
}

// resolve maps a property path in dialect d onto t's column. The error for
// an unknown segment names that segment and the type it was looked up on,
// as Exchange's request broker does. A nil column with a nil error means
// the property exists but has no column.
func resolve(t *schema.StructType, d schema.Dialect, segs []string) (*schema.Column, error) {
	cur, typeName := t, t.FullName(d)
	for _, s := range segs {
		var p *schema.Property
		if cur != nil {
			p = cur.Prop(d, s)
		}
		if p == nil {
			return nil, unknownProperty(s, typeName)
		}
		cur, typeName = p.Type, propertyType(p, d)
	}
	col, _, ok := t.Resolve(d, strings.Join(segs, "/"))
	if !ok {
		return nil, unknownProperty(strings.Join(segs, "/"), t.FullName(d))
	}
	return col, nil
}

// propertyType names the type of p's values in dialect d.
func propertyType(p *schema.Property, d schema.Dialect) string {
	switch p.Kind {
	case schema.Struct:
		return p.Type.FullName(d)
	case schema.Enum:
		return edmType(&schema.Column{Kind: schema.Enum, Enum: p.Enum}, d)
	}
	return edmType(&schema.Column{Kind: p.Kind}, d)
}

// parseOrderBy reads $orderby: comma-separated property paths of sortable
// columns, each optionally followed by asc or desc.
//
// TODO: Graph refuses some $filter/$orderby combinations on messages with
// InefficientFilter (graph-api.md §3.2); this server sorts any combination,
// so a query that works here may fail against the real service.
func parseOrderBy(src string, t *schema.StructType, d schema.Dialect, lim Limits) (
	[]store.Order, error) {
	if len(src) > lim.MaxFilterLength {
		return nil, limitExceeded("characters in $orderby", lim.MaxFilterLength)
	}
	if strings.Count(src, ",")+1 > lim.MaxOrderBy {
		return nil, limitExceeded("keys in $orderby", lim.MaxOrderBy)
	}
	keys, err := parseOrderByKeys(src)
	if err != nil {
		return nil, err
	}

	var out []store.Order
	for _, k := range keys {
		segs, ok := pathOf(k.tree)
		if !ok {
			return nil, badRequest("Invalid $orderby query option: '%s' is not a property.",
				k.tree.Token.Value)
		}
		col, err := resolve(t, d, segs)
		if err != nil {
			return nil, err
		}
		if col == nil || !col.Sortable {
			return nil, notSortable(strings.Join(segs, "/"))
		}
		out = append(out, store.Order{Column: col.Name, Desc: k.desc})
	}
	return out, nil
}
