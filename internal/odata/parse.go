package odata

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/CiscoM31/godata"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// This file is the only one that calls the godata parser. Its tree types
// stay inside the package.

// parseFilterTree parses a $filter expression. Callers cap the length
// first. A panic inside the parser is a bug there, not a server fault: it is
// turned into a syntax error so that no input can take the handler down.
func parseFilterTree(src string) (tree *godata.ParseNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			tree, err = nil, invalidFilter(fmt.Errorf("filter parser panic: %v", r),
				"the expression cannot be parsed")
		}
	}()
	// The expression parser, not ParseFilterString: the latter refuses a
	// boolean property on its own ("$filter=isRead"), which OData allows.
	// Whether the tree is a boolean expression is the compiler's to decide.
	q, err := godata.GlobalExpressionParser.ParseExpressionString(context.Background(), src)
	if err != nil {
		return nil, invalidFilter(err, parserDetail(err))
	}
	return q.Tree, nil
}

// orderKey is one parsed $orderby item.
type orderKey struct {
	tree *godata.ParseNode
	desc bool
}

// parseOrderByKeys parses a $orderby list, under the same guard.
func parseOrderByKeys(src string) (keys []orderKey, err error) {
	defer func() {
		if r := recover(); r != nil {
			keys, err = nil, badRequest("Invalid $orderby query option.")
		}
	}()
	q, err := godata.ParseOrderByString(context.Background(), src)
	if err != nil {
		detail := strings.TrimPrefix(parserDetail(err), "Invalid $orderby query option")
		detail = strings.TrimLeft(detail, ":. ")
		if detail == "" {
			return nil, badRequest("Invalid $orderby query option.")
		}
		return nil, badRequest("Invalid $orderby query option: %s", detail)
	}
	for _, it := range q.OrderByItems {
		if it.Tree == nil || it.Tree.Tree == nil {
			return nil, badRequest("Invalid $orderby query option.")
		}
		keys = append(keys, orderKey{tree: it.Tree.Tree, desc: it.Order == godata.DESC})
	}
	return keys, nil
}

// parserDetail is the client-safe part of a parser error: its own message
// without the wrapped causes.
func parserDetail(err error) string {
	var ge *godata.GoDataError
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return err.Error()
}

// Token kinds of the godata tree this package reads.
func isKind(n *godata.ParseNode, k godata.ExpressionTokenType) bool {
	return n != nil && n.Token != nil && n.Token.Type == k
}

// pathOf returns the segments of a property path node ("subject",
// "from/emailAddress/address"), or ok false when n is something else.
func pathOf(n *godata.ParseNode) (segs []string, ok bool) {
	switch {
	case isKind(n, godata.ExpressionTokenLiteral) && len(n.Children) == 0:
		return []string{n.Token.Value}, true
	case isKind(n, godata.ExpressionTokenNav) && len(n.Children) == 2:
		left, ok := pathOf(n.Children[0])
		if !ok {
			return nil, false
		}
		right, ok := pathOf(n.Children[1])
		if !ok || len(right) != 1 {
			return nil, false
		}
		return append(left, right[0]), true
	}
	return nil, false
}

// exceeds reports whether the tree under n has more than maxNodes nodes or
// is deeper than maxDepth, stopping as soon as it knows.
func exceeds(n *godata.ParseNode, maxNodes, maxDepth int) (nodes, depth bool) {
	count := 0
	var walk func(n *godata.ParseNode, level int) bool
	walk = func(n *godata.ParseNode, level int) bool {
		count++
		if count > maxNodes {
			nodes = true
			return false
		}
		if level > maxDepth {
			depth = true
			return false
		}
		for _, c := range n.Children {
			if !walk(c, level+1) {
				return false
			}
		}
		return true
	}
	walk(n, 1)
	return nodes, depth
}

// prescan measures a filter without parsing it: the tokens that become
// tree nodes (words, string literals and "/"; a bound on the node count),
// all tokens (adding parentheses and commas), and the deepest nesting of
// parentheses, all outside string literals. The parser's tokenizer spends
// time in proportion to the rest of the input for every token, quadratic
// overall (about 40 ms for 2,000 tokens), so inputs that the limits refuse
// anyway are refused before it runs.
func prescan(src string) (nodes, tokens, depth int) {
	inQuote, inWord, level := false, false, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inQuote {
			inQuote = c != '\''
			continue
		}
		if c != ' ' && c != '(' && c != ')' && c != ',' && c != '/' && c != '\'' {
			if !inWord {
				nodes++
				inWord = true
			}
			continue
		}
		inWord = false
		switch c {
		case '\'':
			inQuote = true
			nodes++
		case '/':
			nodes++
		case '(':
			level++
			depth = max(depth, level)
		case ')':
			level--
		}
		if c != ' ' {
			tokens++
		}
	}
	return nodes, tokens + nodes, depth
}

// stripEnumPrefixes rewrites typed enumeration literals such as
// Microsoft.OutlookServices.Importance'High' or microsoft.graph.importance'high'
// to plain strings ('High'), which godata does not read otherwise. Only
// prefixes naming an enumeration of one of t's columns, in either
// dialect's namespace, are removed; the member itself is still checked
// against the column when the comparison is compiled.
func stripEnumPrefixes(src string, t *schema.StructType) string {
	var b strings.Builder
	inQuote := false
	identStart := -1 // start of the identifier just before i, outside quotes
	last := 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\'':
			if !inQuote && identStart >= 0 && enumPrefix(src[identStart:i], t) {
				b.WriteString(src[last:identStart])
				last = i
			}
			inQuote = !inQuote // a doubled quote toggles twice
			identStart = -1
		case inQuote:
		case isIdentByte(c):
			if identStart < 0 {
				identStart = i
			}
		default:
			identStart = -1
		}
	}
	if last == 0 {
		return src
	}
	b.WriteString(src[last:])
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' ||
		c >= 'A' && c <= 'Z'
}

// enumPrefix reports whether name is a qualified enumeration type name
// used by a column of t.
func enumPrefix(name string, t *schema.StructType) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return false
	}
	ns, short := name[:dot], name[dot+1:]
	if !strings.EqualFold(ns, "microsoft.graph") &&
		!strings.EqualFold(ns, "Microsoft.OutlookServices") {
		return false
	}
	for _, c := range t.Columns {
		if c.Enum != nil && strings.EqualFold(c.Enum.Name, short) {
			return true
		}
	}
	return false
}

// literalPrefix starts the placeholders extractLiterals puts in place of
// string literals: letters and digits only, which the parser keeps as they
// are.
const literalPrefix = "hgLiteral"

// extractLiterals replaces every quoted string literal of a $filter with a
// numbered placeholder and returns the literals decoded (OData ABNF: a
// quote inside a literal is doubled). godata's own unescaping pairs quotes
// from the left and reads a literal of one quote as the empty string;
// decoding here makes every literal exact. An unterminated literal is left
// for the parser to report.
func extractLiterals(src string) (string, []string) {
	var b strings.Builder
	var lits []string
	for i := 0; i < len(src); {
		if src[i] != '\'' {
			b.WriteByte(src[i])
			i++
			continue
		}
		lit, end, ok := readLiteral(src, i)
		if !ok {
			b.WriteString(src[i:])
			break
		}
		b.WriteString("'" + literalPrefix + strconv.Itoa(len(lits)) + "'")
		lits = append(lits, lit)
		i = end
	}
	return b.String(), lits
}

// readLiteral decodes the literal whose opening quote is at src[start]; end
// is the index after its closing quote.
func readLiteral(src string, start int) (lit string, end int, ok bool) {
	var b strings.Builder
	for j := start + 1; j < len(src); j++ {
		switch {
		case src[j] != '\'':
			b.WriteByte(src[j])
		case j+1 < len(src) && src[j+1] == '\'':
			b.WriteByte('\'')
			j++
		default:
			return b.String(), j + 1, true
		}
	}
	return "", 0, false
}

// show is a token as the client wrote it, for error messages: a literal's
// placeholder becomes the quoted literal again.
func (c *compiler) show(tok string) string {
	if len(tok) < 2 || tok[0] != '\'' || !strings.HasPrefix(tok[1:], literalPrefix) {
		return tok
	}
	return "'" + strings.ReplaceAll(c.stringValue(tok), "'", "''") + "'"
}

// stringValue returns the text of a string token: the literal its
// placeholder stands for.
func (c *compiler) stringValue(tok string) string {
	if len(tok) < 2 {
		return ""
	}
	inner := tok[1 : len(tok)-1]
	if rest, found := strings.CutPrefix(inner, literalPrefix); found {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n < len(c.literals) {
			return c.literals[n]
		}
	}
	return inner
}
