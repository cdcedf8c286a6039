package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Full-text search. Query.Search holds a query in the subset of KQL (the
// Keyword Query Language) that Microsoft Graph's $search takes on
// messages (learn.microsoft.com/graph/search-query-parameter):
//
//	query   = or
//	or      = and *( "OR" and )
//	and     = unary *( [ "AND" ] unary )      ; terms side by side are ANDed
//	unary   = [ "NOT" ] primary
//	primary = "(" or ")" / [ property ":" ] value
//	value   = word [ "*" ] / DQUOTE phrase DQUOTE [ "*" ]
//
// AND, OR and NOT are operators only in upper case, as in KQL; NOT binds
// tighter than AND, AND tighter than OR. Every AND group needs a term that
// is not negated ("NOT x" alone is refused): an index answers what
// matches, not what does not.
//
// Properties: subject, from (the from and sender names and addresses), to,
// cc, bcc, recipients (to, cc and bcc), participants (from and the
// recipients) and body (the body as plain text). A value without a
// property searches subject, from and body, Graph's default properties.
// KQL properties Graph has and this store does not index (attachment,
// hasAttachments, importance, kind, received, sent, size, category) are
// refused; any other "name:value" is text.
//
// Matching. Text is compared as words: runs of letters and digits,
// without case and without diacritics ("Café" matches "cafe"); everything
// else separates words, and a value of no words ("&") is left out. A
// value matches whole words, and a value of several words
// ("bob@contoso.com", or a quoted phrase) matches them next to each
// other, in order, within one property. A trailing "*" makes the
// last word a prefix ("pizz*" matches "pizza"). Words longer than
// MaxSearchWordLen are not indexed, and only the first MaxSearchBodyWords
// words of a body are.

// Search limits.
const (
	// MaxSearchWordLen is the longest indexed word, in characters. Longer
	// runs (encoded data, long links) are left out of the index.
	MaxSearchWordLen = 64
	// MaxSearchBodyWords bounds the words of a body that are indexed.
	MaxSearchBodyWords = 10_000
	// MaxSearchTerms bounds the terms of a query.
	MaxSearchTerms = 64
	// maxSearchDepth bounds the nesting of parentheses.
	maxSearchDepth = 16
)

// The indexed fields of a message.
const (
	FieldSubject = "subject"
	FieldFrom    = "from"
	FieldTo      = "to"
	FieldCC      = "cc"
	FieldBCC     = "bcc"
	FieldBody    = "body"
)

// SearchFields are the indexed fields, in the order backends store them.
var SearchFields = []string{FieldSubject, FieldFrom, FieldTo, FieldCC, FieldBCC, FieldBody}

// searchProperties maps a KQL property, lower-cased, to the fields it
// searches; "" is a value without property.
var searchProperties = map[string][]string{
	"":             {FieldSubject, FieldFrom, FieldBody},
	"subject":      {FieldSubject},
	"from":         {FieldFrom},
	"to":           {FieldTo},
	"cc":           {FieldCC},
	"bcc":          {FieldBCC},
	"recipients":   {FieldTo, FieldCC, FieldBCC},
	"participants": {FieldFrom, FieldTo, FieldCC, FieldBCC},
	"body":         {FieldBody},
}

// unsearchable are KQL message properties Graph documents that are not
// indexed here; a query naming one is refused rather than answered wrong.
var unsearchable = map[string]bool{
	"attachment": true, "attachments": true, "hasattachment": true, "hasattachments": true,
	"importance": true, "kind": true, "received": true, "sent": true, "size": true,
	"category": true,
}

// ErrSearchSyntax reports a Query.Search the store cannot read.
var ErrSearchSyntax = errors.New("search syntax")

// SearchOp is the kind of a SearchExpr node.
type SearchOp int

// Search expression kinds.
const (
	SearchTerm SearchOp = iota // Words in one of Fields
	SearchAnd                  // every one of Args
	SearchOr                   // any of Args
	SearchNot                  // not Args[0]
)

// SearchExpr is a parsed search query.
type SearchExpr struct {
	Op SearchOp
	// Fields, Words and Prefix describe a term: the words, next to each
	// other and in order, in any one of the fields; with Prefix the last
	// word is a prefix.
	Fields []string
	Words  []string
	Prefix bool
	Args   []*SearchExpr
}

// ParseSearch reads a Query.Search. Errors wrap ErrSearchSyntax and say
// what is wrong in words a client can act on.
func ParseSearch(s string) (*SearchExpr, error) {
	p := searchParser{toks: lexSearch(s)}
	e, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, searchError("unexpected %q", p.toks[p.pos].text)
	}
	if e == nil {
		return nil, searchError("the query has no word to search for")
	}
	if p.terms > MaxSearchTerms {
		return nil, searchError("more than %d terms", MaxSearchTerms)
	}
	if !positive(e) {
		return nil, searchError("NOT needs a term that is not negated beside it")
	}
	return e, nil
}

func searchError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSearchSyntax}, args...)...)
}

// positive reports whether e selects from what matches (so an index can
// answer it), checking the operands of NOT on the way.
func positive(e *SearchExpr) bool {
	switch e.Op {
	case SearchTerm:
		return true
	case SearchNot:
		return false
	case SearchOr:
		for _, a := range e.Args {
			if !positive(a) {
				return false
			}
		}
		return true
	}
	some := false
	for _, a := range e.Args {
		if a.Op == SearchNot {
			if !positive(a.Args[0]) {
				return false
			}
			continue
		}
		if !positive(a) {
			return false
		}
		some = true
	}
	return some
}

// longWord returns the start of the first word of text longer than
// MaxSearchWordLen, or "".
func longWord(text string) string {
	n, start := 0, -1
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.In(r, unicode.Mn, unicode.Mc,
			unicode.Me) {
			if n == 0 {
				start = i
			}
			if !unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) {
				n++
			}
			if n > MaxSearchWordLen {
				return text[start:i] + "…"
			}
			continue
		}
		n = 0
	}
	return ""
}

// SearchWords splits text into the words the index holds: runs of letters
// and digits, lower-cased, with diacritics (combining marks after
// canonical decomposition) removed. Words longer than MaxSearchWordLen are
// dropped.
func SearchWords(text string) []string {
	var words []string
	var b strings.Builder
	n := 0
	flush := func() {
		if n > 0 && n <= MaxSearchWordLen {
			words = append(words, b.String())
		}
		b.Reset()
		n = 0
	}
	// Invalid UTF-8 separates words; left in, it would stop the
	// decomposition of the character after it.
	for _, r := range norm.NFD.String(strings.ToValidUTF8(text, " ")) {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me):
			// a diacritic: dropped, the word goes on
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(unicode.ToLower(r))
			n++
		default:
			flush()
		}
	}
	flush()
	return words
}

// SearchText is text as the index stores it: SearchWords joined by
// spaces, at most limit words (0 for no limit).
func SearchText(text string, limit int) string {
	w := SearchWords(text)
	if limit > 0 && len(w) > limit {
		w = w[:limit]
	}
	return strings.Join(w, " ")
}

// searchToken is a lexical token: an operator or parenthesis, a word (which
// may carry "property:"), or a quoted phrase. glued means no space before.
type searchToken struct {
	text   string
	phrase bool
	glued  bool
}

// lexSearch splits s into tokens. A quote opens a phrase that runs to the
// next quote (KQL phrases have no escapes); an unterminated one runs to the
// end.
func lexSearch(s string) []searchToken {
	var toks []searchToken
	glued := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
			glued = false
			continue
		case r == '(' || r == ')':
			toks = append(toks, searchToken{text: s[i : i+1], glued: glued})
			i++
		case r == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				end = len(s) - i - 1
			}
			toks = append(toks, searchToken{text: s[i+1 : i+1+end], phrase: true, glued: glued})
			i = min(i+end+2, len(s))
		default:
			j := i
			for j < len(s) {
				r, size := utf8.DecodeRuneInString(s[j:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' {
					break
				}
				j += size
			}
			toks = append(toks, searchToken{text: s[i:j], glued: glued})
			i = j
		}
		glued = true
	}
	return toks
}

type searchParser struct {
	toks  []searchToken
	pos   int
	terms int
}

func (p *searchParser) peek() (searchToken, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return searchToken{}, false
}

// isOp reports whether the next token is the operator op.
func (p *searchParser) isOp(op string) bool {
	t, ok := p.peek()
	return ok && !t.phrase && t.text == op
}

func (p *searchParser) or(depth int) (*SearchExpr, error) {
	var args []*SearchExpr
	for {
		e, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		if e == nil {
			if len(args) > 0 {
				return nil, searchError("OR needs a term after it")
			}
			return nil, nil
		}
		args = append(args, e)
		if !p.isOp("OR") {
			break
		}
		p.pos++
	}
	return join(SearchOr, args), nil
}

func (p *searchParser) and(depth int) (*SearchExpr, error) {
	var args []*SearchExpr
	for {
		t, ok := p.peek()
		if !ok || !t.phrase && (t.text == ")" || t.text == "OR") {
			return join(SearchAnd, args), nil
		}
		if p.isOp("AND") {
			if len(args) == 0 {
				return nil, searchError("AND needs a term before it")
			}
			p.pos++
			if t, ok := p.peek(); !ok || !t.phrase && (t.text == ")" || t.text == "OR") {
				return nil, searchError("AND needs a term after it")
			}
		}
		e, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		if e != nil {
			args = append(args, e)
		}
	}
}

func join(op SearchOp, args []*SearchExpr) *SearchExpr {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	return &SearchExpr{Op: op, Args: args}
}

func (p *searchParser) unary(depth int) (*SearchExpr, error) {
	if !p.isOp("NOT") {
		return p.primary(depth)
	}
	p.pos++
	e, err := p.primary(depth)
	if err != nil || e == nil {
		return nil, err
	}
	return &SearchExpr{Op: SearchNot, Args: []*SearchExpr{e}}, nil
}

func (p *searchParser) primary(depth int) (*SearchExpr, error) {
	t, ok := p.peek()
	switch {
	case !ok:
		return nil, searchError("a term is missing at the end")
	case t.phrase:
		p.pos++
		return p.term("", t.text, true)
	case t.text == "(":
		if depth >= maxSearchDepth {
			return nil, searchError("parentheses nested deeper than %d", maxSearchDepth)
		}
		p.pos++
		e, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, searchError("a closing parenthesis is missing")
		}
		p.pos++
		return e, nil
	case t.text == ")" || t.text == "AND" || t.text == "OR" || t.text == "NOT":
		return nil, searchError("unexpected %q", t.text)
	}
	p.pos++
	return p.word(t.text)
}

// word reads a word token, which may be "property:value" or "property:"
// followed at once by a phrase.
func (p *searchParser) word(text string) (*SearchExpr, error) {
	// KQL compares properties with = < > <= >= <> ("received>=2024-01-01");
	// none of them is supported, and reading one as words would be wrong.
	if i := strings.IndexAny(text, ":=<>"); i > 0 && text[i] != ':' {
		prop := strings.ToLower(text[:i])
		if _, known := searchProperties[prop]; known || unsearchable[prop] {
			return nil, searchError("the property %q cannot be compared with %q", text[:i],
				text[i:i+1])
		}
	}
	name, value, found := strings.Cut(text, ":")
	if !found {
		return p.term("", text, false)
	}
	prop := strings.ToLower(name)
	if unsearchable[prop] {
		return nil, searchError("the property %q is not searchable here", name)
	}
	if _, known := searchProperties[prop]; !known || prop == "" {
		return p.term("", text, false) // "http://x" or "a:b" is text
	}
	if value != "" {
		return p.term(prop, value, false)
	}
	if t, ok := p.peek(); ok && t.phrase && t.glued {
		p.pos++
		return p.term(prop, t.text, true)
	}
	return nil, searchError("the property %q has no value", name)
}

// term builds a term of property prop from a word or phrase value; a "*"
// after it (inside a word, or glued to a phrase) makes it a prefix.
func (p *searchParser) term(prop, value string, phrase bool) (*SearchExpr, error) {
	prefix := false
	if phrase {
		if t, ok := p.peek(); ok && t.glued && !t.phrase && t.text == "*" {
			p.pos++
			prefix = true
		}
	} else if strings.HasSuffix(value, "*") {
		prefix = true
	}
	if w := longWord(value); w != "" {
		// It is not in the index: dropped, it would widen the query
		// (hello AND it would read as hello) instead of matching nothing.
		return nil, searchError("the word %q is longer than %d characters, which are not "+
			"indexed", w, MaxSearchWordLen)
	}
	words := SearchWords(value)
	if len(words) == 0 {
		return nil, nil // punctuation alone ("pizza & beer") searches for nothing
	}
	p.terms++
	return &SearchExpr{Op: SearchTerm, Fields: searchProperties[prop], Words: words,
		Prefix: prefix}, nil
}
