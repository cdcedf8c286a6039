package odata

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/CiscoM31/godata"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// compileFilter turns a $filter expression over type t into a SQL boolean
// expression over t's columns, with "?" placeholders and their arguments.
//
// Supported (graph-api.md §3.2): eq ne gt ge lt le, and or not, in,
// parentheses, startswith/endswith/contains, eq/ne null, and literals of
// the column's type: quoted strings and enumeration members, true/false,
// integers, unquoted DateTimeOffset and Date values.
func compileFilter(src string, t *schema.StructType, d schema.Dialect, lim Limits) (
	string, []any, error) {
	if len(src) > lim.MaxFilterLength {
		return "", nil, limitExceeded("characters in $filter", lim.MaxFilterLength)
	}
	if strings.TrimSpace(src) == "" {
		return "", nil, invalidFilter(nil, "the expression is empty.")
	}
	src = stripEnumPrefixes(src, t)
	if err := checkSize(src, lim); err != nil {
		return "", nil, err
	}
	src, literals := extractLiterals(src)
	tree, err := parseFilterTree(src)
	if err != nil {
		return "", nil, err
	}
	nodes, depth := exceeds(tree, lim.MaxFilterNodes, lim.MaxFilterDepth)
	if nodes {
		return "", nil, limitExceeded("nodes in $filter", lim.MaxFilterNodes)
	}
	if depth {
		return "", nil, limitExceeded("levels of nesting in $filter", lim.MaxFilterDepth)
	}

	c := compiler{t: t, d: d, noStringFunctions: lim.NoStringFunctions, literals: literals}
	if err := c.boolean(tree, false); err != nil {
		return "", nil, err
	}
	return c.sql.String(), c.args, nil
}

// checkSize refuses, before parsing, a filter that the node or depth
// limits would refuse after: see prescan.
func checkSize(src string, lim Limits) error {
	nodes, tokens, parens := prescan(src)
	// Parentheses and commas add at most two tokens per node in any
	// sensible filter ("f(p,'x')" is three nodes, six tokens).
	if nodes > lim.MaxFilterNodes || tokens > 3*lim.MaxFilterNodes {
		return limitExceeded("nodes in $filter", lim.MaxFilterNodes)
	}
	if parens > lim.MaxFilterDepth {
		return limitExceeded("levels of nesting in $filter", lim.MaxFilterDepth)
	}
	return nil
}

// compiler writes the SQL of one filter.
//
// Every predicate it writes is two-valued over the rows: a NULL column
// makes a positive comparison false and its negation true, as Exchange
// treats a missing property. To keep it so, not() is never written as SQL
// NOT; it is pushed down to the comparisons (neg), which are then written
// in their complementary form.
type compiler struct {
	t    *schema.StructType
	d    schema.Dialect
	sql  strings.Builder
	args []any
	// noStringFunctions refuses contains, startswith and endswith, as
	// Exchange 2016 does.
	noStringFunctions bool
	// literals are the filter's string literals, decoded by us; the parser
	// saw placeholders for them (see extractLiterals).
	literals []string
}

// boolean compiles a node that must yield a boolean, negated if neg.
func (c *compiler) boolean(n *godata.ParseNode, neg bool) error {
	if n == nil || n.Token == nil {
		return invalidFilter(nil, "an operand is missing.")
	}
	tok := n.Token
	switch {
	case isKind(n, godata.ExpressionTokenLogical):
		return c.logical(n, strings.ToLower(tok.Value), neg)
	case isKind(n, godata.ExpressionTokenFunc):
		return c.function(n, strings.ToLower(tok.Value), neg)
	case isKind(n, godata.ExpressionTokenLiteral), isKind(n, godata.ExpressionTokenNav):
		return c.booleanProperty(n, neg)
	case isKind(n, godata.ExpressionTokenBoolean):
		c.constant((tok.Value == "true") != neg)
		return nil
	case isKind(n, godata.ExpressionTokenLambdaNav):
		// TODO: any()/all() over collections (categories/any(c:c eq 'x'))
		// need a table of collection values; until then such filters fail.
		return unsupported("Filtering with the lambda operators 'any' and 'all'")
	}
	return invalidFilter(nil, "'"+c.show(tok.Value)+"' is not a boolean expression.")
}

func (c *compiler) logical(n *godata.ParseNode, op string, neg bool) error {
	switch op {
	case "and", "or":
		if len(n.Children) != 2 {
			return invalidFilter(nil, "'"+op+"' needs two operands.")
		}
		join := " AND "
		if (op == "or") != neg { // De Morgan: not(a and b) = not a or not b
			join = " OR "
		}
		c.sql.WriteByte('(')
		if err := c.boolean(n.Children[0], neg); err != nil {
			return err
		}
		c.sql.WriteString(join)
		if err := c.boolean(n.Children[1], neg); err != nil {
			return err
		}
		c.sql.WriteByte(')')
		return nil
	case "not":
		if len(n.Children) != 1 {
			return invalidFilter(nil, "'not' needs one operand.")
		}
		return c.boolean(n.Children[0], !neg)
	case "eq", "ne", "gt", "ge", "lt", "le":
		return c.comparison(n, op, neg)
	case "in":
		return c.in(n, neg)
	}
	return unsupported("The operator '" + op + "'")
}

// constant writes an always-true or always-false predicate.
func (c *compiler) constant(v bool) {
	if v {
		c.sql.WriteString("1 = 1")
	} else {
		c.sql.WriteString("1 = 0")
	}
}

// column resolves a property path node to a filterable column.
func (c *compiler) column(n *godata.ParseNode) (*schema.Column, string, error) {
	segs, ok := pathOf(n)
	if !ok {
		return nil, "", invalidFilter(nil, "'"+c.show(n.Token.Value)+"' is not a property.")
	}
	col, err := resolve(c.t, c.d, segs)
	if err != nil {
		return nil, "", err
	}
	name := strings.Join(segs, "/")
	if col == nil {
		return nil, "", notFilterable(name)
	}
	return col, name, nil
}

// booleanProperty compiles a boolean property used as a predicate on its
// own ("isRead", "not isDraft"), which means "eq true".
func (c *compiler) booleanProperty(n *godata.ParseNode, neg bool) error {
	col, name, err := c.column(n)
	if err != nil {
		return err
	}
	if col.Kind != schema.Bool {
		return invalidFilter(nil, "the property '"+name+"' is not a boolean expression.")
	}
	c.compare(col, "eq", true, neg)
	return nil
}

// isPath reports whether n names a property rather than a literal.
func isPath(n *godata.ParseNode) bool {
	return isKind(n, godata.ExpressionTokenLiteral) || isKind(n, godata.ExpressionTokenNav)
}

// mirror is the operator that keeps a comparison true when its operands
// change sides ('x' lt p is p gt 'x').
var mirror = map[string]string{"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le",
	"lt": "gt", "le": "ge"}

// inverse is the operator of the complementary comparison.
var inverse = map[string]string{"eq": "ne", "ne": "eq", "gt": "le", "ge": "lt",
	"lt": "ge", "le": "gt"}

var sqlOp = map[string]string{"eq": "=", "ne": "<>", "gt": ">", "ge": ">=",
	"lt": "<", "le": "<="}

func (c *compiler) comparison(n *godata.ParseNode, op string, neg bool) error {
	if len(n.Children) != 2 {
		return invalidFilter(nil, "'"+op+"' needs two operands.")
	}
	prop, lit := n.Children[0], n.Children[1]
	for _, side := range n.Children {
		if isKind(side, godata.ExpressionTokenFunc) {
			return unsupported("The function '" + strings.ToLower(side.Token.Value) +
				"' in a comparison")
		}
	}
	if isPath(prop) && isPath(lit) {
		return unsupported("Comparing two properties")
	}
	if isPath(lit) {
		prop, lit, op = lit, prop, mirror[op]
	}
	if !isPath(prop) {
		return invalidFilter(nil, "a comparison needs a property on one side.")
	}
	col, name, err := c.column(prop)
	if err != nil {
		return err
	}

	if isKind(lit, godata.ExpressionTokenNull) {
		return c.null(col, op, neg)
	}
	if err := c.checkOperator(col, name, op); err != nil {
		return err
	}
	if col.Kind == schema.DateTimeOffset {
		return c.timeComparison(col, lit, op, neg)
	}
	v, err := c.literal(col, lit, op)
	if err != nil {
		return err
	}
	c.compare(col, op, v, neg)
	return nil
}

// compare writes "col op ?" or, negated, its complement. A positive
// comparison with a NULL column is false; "ne" and every negated form are
// true there, so they add "col IS NULL OR" (exchange-style absence).
func (c *compiler) compare(col *schema.Column, op string, v any, neg bool) {
	includeNull := (op == "ne") != neg
	if neg {
		op = inverse[op]
	}
	if includeNull {
		c.sql.WriteString("(" + col.Name + " IS NULL OR " + col.Name + " " + sqlOp[op] + " ?)")
	} else {
		c.sql.WriteString(col.Name + " " + sqlOp[op] + " ?")
	}
	c.args = append(c.args, v)
}

// null compiles "eq null" and "ne null".
func (c *compiler) null(col *schema.Column, op string, neg bool) error {
	if op != "eq" && op != "ne" {
		return badRequest("The operator '%s' cannot be compared with null.", op)
	}
	if (op == "eq") != neg {
		c.sql.WriteString(col.Name + " IS NULL")
	} else {
		c.sql.WriteString(col.Name + " IS NOT NULL")
	}
	return nil
}

// checkOperator refuses orderings on values without a useful order:
// booleans and enumeration members (stored by name, not by rank).
func (c *compiler) checkOperator(col *schema.Column, name, op string) error {
	if op == "eq" || op == "ne" || op == "in" {
		return nil
	}
	if col.Kind == schema.Bool || col.Kind == schema.Enum {
		return badRequest("The operator '%s' cannot be applied to the property '%s' of type '%s'.",
			op, name, edmType(col, c.d))
	}
	return nil
}

// literal converts a literal node to the column's stored form.
func (c *compiler) literal(col *schema.Column, n *godata.ParseNode, op string) (any, error) {
	tok := n.Token
	switch {
	case isKind(n, godata.ExpressionTokenString):
		s := c.stringValue(tok.Value)
		switch col.Kind {
		case schema.String:
			return s, nil
		case schema.Enum:
			m, ok := col.Enum.Canonical(s)
			if !ok {
				return nil, badRequest("The string '%s' is not a valid enumeration type "+
					"constant for '%s'.", s, edmType(col, c.d))
			}
			return m, nil
		}
		return nil, incompatible(col, "Edm.String", op, c.d)
	case isKind(n, godata.ExpressionTokenBoolean):
		if col.Kind == schema.Bool {
			return tok.Value == "true", nil
		}
		return nil, incompatible(col, "Edm.Boolean", op, c.d)
	case isKind(n, godata.ExpressionTokenInteger):
		if col.Kind != schema.Int32 {
			return nil, incompatible(col, "Edm.Int32", op, c.d)
		}
		v, err := strconv.ParseInt(tok.Value, 10, 32)
		if err != nil {
			return nil, badRequest("The value '%s' is not a valid Edm.Int32.", tok.Value)
		}
		return v, nil
	}
	if lt, ok := literalType[tok.Type]; ok {
		return nil, incompatible(col, lt, op, c.d)
	}
	return nil, invalidFilter(nil, "'"+c.show(tok.Value)+"' is not a literal value.")
}

// literalType names the OData types of the other literal tokens, for
// error messages.
var literalType = map[godata.TokenType]string{
	godata.ExpressionTokenFloat:    "Edm.Double",
	godata.ExpressionTokenDate:     "Edm.Date",
	godata.ExpressionTokenDateTime: "Edm.DateTimeOffset",
	godata.ExpressionTokenTime:     "Edm.TimeOfDay",
	godata.ExpressionTokenDuration: "Edm.Duration",
	godata.ExpressionTokenGuid:     "Edm.Guid",
}

// timeComparison compiles a comparison with a DateTimeOffset column. The
// literal must be unquoted (graph-api.md §3.2: "receivedDateTime ge
// 2017-04-01"); it is normalised to the columns' text form, whole seconds
// in UTC. A literal with a fraction of a second falls between two stored
// values, so the operator is adjusted instead of rounding the value.
func (c *compiler) timeComparison(col *schema.Column, n *godata.ParseNode, op string,
	neg bool) error {
	if !isKind(n, godata.ExpressionTokenDateTime) && !isKind(n, godata.ExpressionTokenDate) {
		lt := literalType[n.Token.Type]
		switch {
		case isKind(n, godata.ExpressionTokenString):
			lt = "Edm.String"
		case isKind(n, godata.ExpressionTokenBoolean):
			lt = "Edm.Boolean"
		case isKind(n, godata.ExpressionTokenInteger):
			lt = "Edm.Int32"
		case lt == "":
			return invalidFilter(nil, "'"+c.show(n.Token.Value)+"' is not a literal value.")
		}
		return incompatible(col, lt, op, c.d)
	}
	tm, err := schema.ParseTime(n.Token.Value)
	if err != nil {
		return httpserver.Wrap(err, http.StatusBadRequest, CodeBadRequest,
			"The value '"+n.Token.Value+"' is not a valid Edm.DateTimeOffset.")
	}
	whole := tm.Truncate(time.Second)
	if whole.Equal(tm) {
		c.compare(col, op, schema.FormatTime(tm), neg)
		return nil
	}
	switch op {
	case "eq", "ne": // no stored value has a fraction
		c.constant((op == "ne") != neg)
		return nil
	case "lt": // v < 10:00:00.5 ⇔ v <= 10:00:00
		op = "le"
	case "ge": // v >= 10:00:00.5 ⇔ v > 10:00:00
		op = "gt"
	}
	c.compare(col, op, schema.FormatTime(whole), neg)
	return nil
}
