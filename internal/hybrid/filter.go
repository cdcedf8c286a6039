package hybrid

import (
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// renameExpr rewrites the property paths of an OData expression ($filter,
// $orderby, $expand) on type t from one dialect to the other, and the
// quoted enum literals compared with enum properties: Graph's
// "importance eq 'high'" is v2.0's "Importance eq 'High'" (reference
// exchange-hybrid.md §1.3). String literals, numbers, dates, operators,
// functions and lambda variables are kept as they are. It never fails: text
// it cannot read is copied for the server to judge.
func renameExpr(expr string, t *schema.StructType, from, to schema.Dialect) string {
	r := renamer{in: expr, t: t, from: from, to: to, out: make([]byte, 0, len(expr)+8)}
	r.run()
	return string(r.out)
}

// comparison states, for translating enum literals on either side of an
// operator.
type cmpState int

const (
	stNone          cmpState = iota
	stAfterEnumPath          // "importance" seen
	stExpectEnumLit          // "importance eq" seen
	stAfterLit               // "'high'" seen
	stLitOp                  // "'high' eq" seen
)

// lambdaScope is the variable of an any/all lambda and the type of the
// collection elements it ranges over.
type lambdaScope struct {
	name  string
	typ   *schema.StructType
	depth int
}

type renamer struct {
	in       string
	pos      int
	out      []byte
	t        *schema.StructType
	from, to schema.Dialect

	depth  int
	scopes []lambdaScope

	state    cmpState
	enum     *schema.EnumType // enum of the path before the operator
	litStart int              // where in out the last literal starts
	litEnd   int              // and ends
	litValue string           // its decoded text
	inDepth  int              // depth of an "enum in (...)" list, 0 if none
}

// keywords of the OData expression grammar (OData URL Conventions §5.1.1);
// as bare words they are never property names.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "eq": true, "ne": true, "gt": true, "ge": true,
	"lt": true, "le": true, "has": true, "in": true, "add": true, "sub": true, "mul": true,
	"div": true, "divby": true, "mod": true, "true": true, "false": true, "null": true,
	"asc": true, "desc": true, "inf": true, "nan": true,
}

var comparisons = map[string]bool{"eq": true, "ne": true, "gt": true, "ge": true,
	"lt": true, "le": true}

// functions of OData URL Conventions §5.1.1 that may precede "(".
var functions = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "length": true, "indexof": true,
	"substring": true, "tolower": true, "toupper": true, "trim": true, "concat": true,
	"year": true, "month": true, "day": true, "hour": true, "minute": true, "second": true,
	"fractionalseconds": true, "totalseconds": true, "date": true, "time": true,
	"totaloffsetminutes": true, "now": true, "mindatetime": true, "maxdatetime": true,
	"round": true, "floor": true, "ceiling": true, "cast": true, "isof": true,
	"hassubset": true, "hassubsequence": true, "matchespattern": true,
	"geo.distance": true, "geo.length": true, "geo.intersects": true,
}

func (r *renamer) run() {
	for r.pos < len(r.in) {
		c := r.in[r.pos]
		switch {
		case c == ' ' || c == '\t':
			r.out = append(r.out, c)
			r.pos++
		case c == '\'':
			r.literal()
		case identStart(c):
			r.word()
		case isDigit(c) || c == '-' && r.pos+1 < len(r.in) && isDigit(r.in[r.pos+1]):
			r.number()
		case c == '(':
			r.depth++
			r.copyByte()
		case c == ')':
			r.closeParen()
		default:
			r.copyByte()
		}
	}
}

func (r *renamer) copyByte() {
	r.out = append(r.out, r.in[r.pos])
	r.pos++
	r.state = stNone
}

func (r *renamer) closeParen() {
	if r.inDepth == r.depth {
		r.inDepth = 0
	}
	r.depth--
	for n := len(r.scopes); n > 0 && r.scopes[n-1].depth > r.depth; n-- {
		r.scopes = r.scopes[:n-1]
	}
	r.copyByte()
}

// literal copies a quoted string literal (a doubled quote escapes one),
// translating it when it is compared with an enum property.
func (r *renamer) literal() {
	start := r.pos
	r.pos++
	closed := false
	for r.pos < len(r.in) && !closed {
		if r.in[r.pos] == '\'' {
			if r.pos+1 < len(r.in) && r.in[r.pos+1] == '\'' {
				r.pos += 2
				continue
			}
			closed = true
		}
		r.pos++
	}
	raw := r.in[start:r.pos]
	value := ""
	if closed {
		value = strings.ReplaceAll(raw[1:len(raw)-1], "''", "'")
	}

	switch {
	case closed && r.state == stExpectEnumLit:
		r.out = append(r.out, r.enumLiteral(r.enum, value, raw)...)
		r.state = stNone
	case closed && r.inDepth != 0 && r.inDepth == r.depth:
		r.out = append(r.out, r.enumLiteral(r.enum, value, raw)...)
	default:
		r.litStart, r.litValue = len(r.out), value
		r.out = append(r.out, raw...)
		r.litEnd = len(r.out)
		r.state = stNone
		if closed {
			r.state = stAfterLit
		}
	}
}

// enumLiteral spells value, a member of e, in the target dialect, or
// returns raw when it is not a member.
func (r *renamer) enumLiteral(e *schema.EnumType, value, raw string) string {
	m, ok := e.Canonical(value)
	if !ok {
		return raw
	}
	return "'" + strings.ReplaceAll(e.Value(r.to, m), "'", "''") + "'"
}

// number copies a number, date, time or GUID literal.
func (r *renamer) number() {
	start := r.pos
	r.pos++
	for r.pos < len(r.in) {
		c := r.in[r.pos]
		if !isDigit(c) && !isLetter(c) && strings.IndexByte(".:+-", c) < 0 {
			break
		}
		r.pos++
	}
	r.out = append(r.out, r.in[start:r.pos]...)
	r.state = stNone
}

// word reads an identifier or a slash-separated path and decides what it
// is: keyword, function, typed literal, lambda or property path.
func (r *renamer) word() {
	start := r.pos
	r.pos++
	for r.pos < len(r.in) {
		c := r.in[r.pos]
		if identChar(c) {
			r.pos++
			continue
		}
		if c == '/' && r.pos+1 < len(r.in) && identStart(r.in[r.pos+1]) {
			r.pos++
			continue
		}
		break
	}
	w := r.in[start:r.pos]
	next := byte(0)
	if r.pos < len(r.in) {
		next = r.in[r.pos]
	}
	lower := strings.ToLower(w)

	switch {
	case next == '\'' || w[0] == '$' || w[0] == '@':
		// A typed literal (Microsoft.…Importance'High', duration'P1D'), a
		// system option inside $expand, or a parameter alias.
		r.out = append(r.out, w...)
		r.state = stNone
	case !strings.Contains(w, "/") && keywords[lower]:
		r.keyword(w, lower)
	case next == '(' && functions[lower]:
		r.out = append(r.out, w...)
		r.state = stNone
	case next == '(' && isLambda(lower):
		r.lambda(w)
	default:
		r.path(w)
	}
}

func (r *renamer) keyword(w, lower string) {
	r.out = append(r.out, w...)
	switch {
	case comparisons[lower] && r.state == stAfterEnumPath:
		r.state = stExpectEnumLit
	case comparisons[lower] && r.state == stAfterLit:
		r.state = stLitOp
	case lower == "in" && r.state == stAfterEnumPath:
		r.inDepth = r.depth + 1
		r.state = stNone
	default:
		r.state = stNone
	}
}

// isLambda reports a path ending in the any or all operator.
func isLambda(lower string) bool {
	return strings.HasSuffix(lower, "/any") || strings.HasSuffix(lower, "/all")
}

// lambda renames the collection path before /any( or /all(, copies the
// operator and opens a scope for the range variable ("r: r/address …").
func (r *renamer) lambda(w string) {
	slash := strings.LastIndexByte(w, '/')
	text, prop := r.rename(w[:slash])
	r.out = append(r.out, text...)
	r.out = append(r.out, w[slash:]...)
	r.state = stNone

	r.depth++
	r.out = append(r.out, '(')
	r.pos++
	i := r.pos
	for i < len(r.in) && r.in[i] == ' ' {
		i++
	}
	j := i
	for j < len(r.in) && identChar(r.in[j]) {
		j++
	}
	k := j
	for k < len(r.in) && r.in[k] == ' ' {
		k++
	}
	if j == i || k >= len(r.in) || r.in[k] != ':' || !identStart(r.in[i]) {
		return // any() without a variable
	}
	var elem *schema.StructType
	if prop != nil {
		elem = prop.Type
	}
	r.scopes = append(r.scopes, lambdaScope{name: r.in[i:j], typ: elem, depth: r.depth})
	r.out = append(r.out, r.in[r.pos:k+1]...)
	r.pos = k + 1
}

// path renames a property path and notes whether it names an enum, for
// the literal on either side of the operator.
func (r *renamer) path(w string) {
	text, prop := r.rename(w)
	isEnum := prop != nil && prop.Kind == schema.Enum && prop.Enum != nil
	if isEnum && r.state == stLitOp {
		// "'high' eq importance": translate the literal already written.
		raw := string(r.out[r.litStart:r.litEnd])
		tail := append([]byte(nil), r.out[r.litEnd:]...)
		r.out = append(r.out[:r.litStart], r.enumLiteral(prop.Enum, r.litValue, raw)...)
		r.out = append(r.out, tail...)
	}
	r.out = append(r.out, text...)
	r.state = stNone
	if isEnum {
		r.state, r.enum = stAfterEnumPath, prop.Enum
	}
}

// rename spells a slash-separated path in the target dialect and returns
// the property its last segment names, if the schema knows it. A leading
// lambda variable is kept and the rest resolved on its element type. The
// variable is matched without regard to case: case is all that renaming
// changes, so "A" beside a variable "a" would otherwise become it.
func (r *renamer) rename(w string) (string, *schema.Property) {
	segs := strings.Split(w, "/")
	t := r.t
	var last *schema.Property
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if strings.EqualFold(r.scopes[i].name, segs[0]) {
			t = r.scopes[i].typ
			segs = segs[1:]
			break
		}
	}
	prefix := w[:len(w)-len(strings.Join(segs, "/"))]
	for i, s := range segs {
		last = nil
		switch p := propOf(t, s, r.from); {
		case p != nil:
			segs[i], t, last = p.Name(r.to), p.Type, p
		case strings.Contains(s, "."):
			segs[i], t = castName(s, r.to), castType(s)
		default:
			segs[i], t = caseFor(r.to)(s), nil
		}
	}
	return prefix + strings.Join(segs, "/"), last
}

func propOf(t *schema.StructType, name string, d schema.Dialect) *schema.Property {
	if t == nil {
		return nil
	}
	return t.Prop(d, name)
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func identStart(c byte) bool { return isLetter(c) || c == '_' || c == '$' || c == '@' }
func identChar(c byte) bool  { return isLetter(c) || isDigit(c) || c == '_' || c == '.' }
