package odata

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Limits bounds what one request may ask for. A zero field takes its value
// from DefaultLimits, so a face only sets what differs.
type Limits struct {
	// NoStringFunctions refuses contains, startswith and endswith in $filter.
	NoStringFunctions bool
	// DefaultTop is the page size when $top is absent.
	DefaultTop int
	// MaxTop is the largest $top accepted; larger values are refused.
	MaxTop int
	// MaxFilterLength caps the length in bytes of $filter, $orderby and
	// $select, checked before any parsing: the parser's cost grows with
	// its input.
	MaxFilterLength int
	// MaxFilterNodes caps the nodes of the parsed $filter tree (operators,
	// properties and literals), which bounds the SQL and its arguments.
	MaxFilterNodes int
	// MaxFilterDepth caps the nesting of the $filter tree, which bounds the
	// recursion of the compiler.
	MaxFilterDepth int
	// MaxSkip is the largest $skip accepted.
	MaxSkip int
	// MaxOrderBy caps the number of $orderby keys.
	MaxOrderBy int
	// SkipTokenPaging links pages by an opaque $skiptoken and refuses a
	// client's $skip, as Graph pages directory objects (user-list: "$skip
	// is not supported"; pages by $skiptoken).
	SkipTokenPaging bool
}

// DefaultLimits are the limits of the Graph face.
var DefaultLimits = Limits{
	// Graph lists messages 10 at a time and accepts $top from 1 to 1000
	// (user-list-messages, graph-api.md §3.2).
	DefaultTop: 10,
	MaxTop:     1000,
	// Graph documents no $filter limit; 4 KB is far beyond any filter a
	// client builds by hand and keeps the URL under the 8 KB request line
	// most front ends allow.
	MaxFilterLength: 4096,
	// A comparison is three nodes and each and/or one more: room for about
	// 120 comparisons, as in generated filters "id eq 'a' or id eq 'b' ...".
	MaxFilterNodes: 512,
	// A chain of n and/or terms is n levels deep (the tree leans left), so
	// this also caps such chains at 100 terms.
	MaxFilterDepth: 100,
	// Exchange advises at most about a million items per folder; ten times
	// that still pages through any real folder and stays far from overflow.
	MaxSkip:    10_000_000,
	MaxOrderBy: 16,
}

// ExchangeLimits are the limits Exchange 2016's Outlook REST v2.0 face
// documents: a maximum $top of 50 for messages, and no contains or
// startswith in $filter (exchange-hybrid.md §1.4). hybridgraph's own
// on-prem server uses DefaultLimits, so that a client gets the same answers
// from both premises; ExchangeLimits are for checking a client against the
// stricter behaviour.
var ExchangeLimits = Limits{DefaultTop: 10, MaxTop: 50, NoStringFunctions: true}

// withDefaults fills the zero fields of l from DefaultLimits.
func (l Limits) withDefaults() Limits {
	fill := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	fill(&l.DefaultTop, DefaultLimits.DefaultTop)
	fill(&l.MaxTop, DefaultLimits.MaxTop)
	fill(&l.MaxFilterLength, DefaultLimits.MaxFilterLength)
	fill(&l.MaxFilterNodes, DefaultLimits.MaxFilterNodes)
	fill(&l.MaxFilterDepth, DefaultLimits.MaxFilterDepth)
	fill(&l.MaxSkip, DefaultLimits.MaxSkip)
	fill(&l.MaxOrderBy, DefaultLimits.MaxOrderBy)
	l.DefaultTop = min(l.DefaultTop, l.MaxTop)
	return l
}

// Query is a parsed and validated set of query options.
type Query struct {
	// Select is the $select list in request order, without duplicates; nil
	// means the default property set (every property but SelectOnly ones).
	Select []*schema.Property
	// Top is the page size asked for (or the default); Skip the offset.
	Top, Skip int
	// Count is $count=true: the answer carries @odata.count.
	Count bool
	// skipToken: the pages are linked by $skiptoken (Limits.SkipTokenPaging).
	skipToken bool
	// Store holds Where/Args/OrderBy/Skip/Top for the store. Store.Top is
	// Top+1 so that the caller can tell whether another page exists (Page).
	// The caller fills MailboxID and FolderID.
	Store store.Query
}

// DefaultOrder sets the sort order used when the request has no $orderby,
// e.g. receivedDateTime descending for messages.
func (q *Query) DefaultOrder(o ...store.Order) {
	if len(q.Store.OrderBy) == 0 {
		q.Store.OrderBy = slices.Clone(o)
	}
}

// The system query options this package reads, by lower-cased name. Graph
// v1.0 wants the "$" prefix (graph-api.md §3.2), so names without it are not
// options: they are parameters such as calendarView's startDateTime and are
// left to the caller.
const (
	optSelect  = "$select"
	optFilter  = "$filter"
	optOrderBy = "$orderby"
	optTop     = "$top"
	optSkip    = "$skip"
	optCount   = "$count"
	optSearch  = "$search"
	optExpand  = "$expand"
)

// Parse reads the OData query options in v for a collection (or an entity)
// of type t named in dialect d. Option names are case-insensitive; an
// unknown "$" option, a repeated option or an invalid value is a 400
// *httpserver.Error. Parameters without "$" are ignored. Callers that take
// other "$" options of their own (a delta's $deltatoken) remove them from v
// first.
func Parse(v url.Values, t *schema.StructType, d schema.Dialect, lim Limits) (*Query, error) {
	lim = lim.withDefaults()
	opts, err := options(v)
	if err != nil {
		return nil, err
	}

	q := &Query{Top: lim.DefaultTop}
	if s, ok := opts[optSelect]; ok {
		if q.Select, err = parseSelect(s, t, d, lim); err != nil {
			return nil, err
		}
	}
	if s, ok := opts[optFilter]; ok {
		if q.Store.Where, q.Store.Args, err = compileFilter(s, t, d, lim); err != nil {
			return nil, err
		}
	}
	if s, ok := opts[optOrderBy]; ok {
		if q.Store.OrderBy, err = parseOrderBy(s, t, d, lim); err != nil {
			return nil, err
		}
	}
	if err := q.paging(opts, lim); err != nil {
		return nil, err
	}
	if err := q.parseSearch(opts, t, lim); err != nil {
		return nil, err
	}
	q.Store.Top, q.Store.Skip = q.Top+1, q.Skip
	q.limitSearch()
	return q, nil
}

// options collects the "$" options of v by lower-cased name, refusing
// unknown, unsupported and repeated ones.
func options(v url.Values) (map[string]string, error) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same request always gets the same error

	opts := make(map[string]string)
	for _, k := range keys {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		name := strings.ToLower(k)
		switch name {
		case optSelect, optFilter, optOrderBy, optTop, optSkip, optCount, optSearch,
			optSkipToken:
		case optExpand:
			// TODO: $expand (attachments, extended properties) is not
			// implemented; clients that expand get this 400.
			return nil, unsupported("The query option '$expand'")
		default:
			return nil, badRequest("The query parameter '%s' is not supported.", k)
		}
		if _, dup := opts[name]; dup || len(v[k]) > 1 {
			return nil, badRequest("The query option '%s' was specified more than once.", name)
		}
		opts[name] = v[k][0]
	}
	return opts, nil
}

// paging reads $top, $skip and $count.
func (q *Query) paging(opts map[string]string, lim Limits) error {
	if s, ok := opts[optTop]; ok {
		// Graph pages messages 1 to 1000 at a time (graph-api.md §3.2).
		// The real service is lax about larger values on some resources
		// (§8 quirk 6); refusing them tells a client its page is not what it
		// asked for instead of cutting it short without a word.
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > lim.MaxTop {
			return badRequest("Invalid value '%s' for query option '$top': "+
				"an integer from 1 to %d is expected.", s, lim.MaxTop)
		}
		q.Top = n
	}
	if _, ok := opts[optSkip]; ok && lim.SkipTokenPaging {
		return httpserver.Errorf(http.StatusBadRequest, "Request_BadRequest",
			"'$skip' is not supported by the service.")
	}
	if tok, ok := opts[optSkipToken]; ok && lim.SkipTokenPaging {
		n, err := decodeSkipToken(tok, lim.MaxSkip+1)
		if err != nil {
			return httpserver.Wrap(err, http.StatusBadRequest, "Request_BadRequest",
				"Invalid value for query option '$skiptoken'.")
		}
		q.Skip = n
	}
	q.skipToken = lim.SkipTokenPaging
	if s, ok := opts[optSkip]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return badRequest("Invalid value '%s' for query option '$skip': "+
				"a non-negative integer is expected.", s)
		}
		if n > lim.MaxSkip {
			return limitExceeded("items skipped by $skip", lim.MaxSkip)
		}
		q.Skip = n
	}
	if s, ok := opts[optCount]; ok {
		switch strings.ToLower(s) {
		case "true":
			q.Count = true
		case "false":
		default:
			return badRequest("Invalid value '%s' for query option '$count': "+
				"true or false is expected.", s)
		}
	}
	return nil
}

// parseSelect reads a $select list of top-level property names. "*" is the
// default property set.
func parseSelect(s string, t *schema.StructType, d schema.Dialect, lim Limits) (
	[]*schema.Property, error) {
	if len(s) > lim.MaxFilterLength {
		return nil, limitExceeded("characters in $select", lim.MaxFilterLength)
	}
	var sel []*schema.Property
	star := false
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, badRequest("Invalid $select: a property name is missing in '%s'.", s)
		case name == "*":
			star = true
			continue
		}
		p := t.Prop(d, name)
		if p == nil {
			return nil, unknownProperty(name, t.FullName(d))
		}
		if !slices.Contains(sel, p) {
			sel = append(sel, p)
		}
	}
	if star {
		return withDefaultSet(t, sel), nil
	}
	return sel, nil
}

// withDefaultSet answers "$select=*": the default set, plus the SelectOnly
// properties sel names (nil when there are none, like no $select at all).
func withDefaultSet(t *schema.StructType, sel []*schema.Property) []*schema.Property {
	if !slices.ContainsFunc(sel, func(p *schema.Property) bool { return p.SelectOnly }) {
		return nil
	}
	var all []*schema.Property
	for _, p := range t.Props {
		if !p.SelectOnly || slices.Contains(sel, p) {
			all = append(all, p)
		}
	}
	return all
}

// SelectList renders sel for @odata.context, e.g. "subject,from", in the
// names of dialect d.
func SelectList(sel []*schema.Property, d schema.Dialect) string {
	names := make([]string, len(sel))
	for i, p := range sel {
		names[i] = p.Name(d)
	}
	return strings.Join(names, ",")
}
