package hybrid

import (
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// segKind says what a named path segment addresses.
type segKind int

const (
	segCollection segKind = iota // an entity set: a key may follow
	segSingle                    // a single-valued navigation (calendar)
	segAction                    // a bound action, always POST
	segFunction                  // a bound function: delta
)

// pathSegment is a path segment name the router knows. Its v2.0 spelling is
// the Graph one in Pascal case: the reference found no segment renamed
// (exchange-hybrid.md §1.3, action table).
type pathSegment struct {
	graph string
	kind  segKind
	// body is the parameter type of an action's request body.
	body *schema.StructType
	// result is the type an action answers with; bound means the type of
	// the entity it is bound to (move, copy).
	result *schema.StructType
	bound  bool
}

var segments = map[string]pathSegment{}

func init() {
	for _, s := range []pathSegment{
		{graph: "messages"}, {graph: "mailFolders"}, {graph: "childFolders"},
		{graph: "attachments"}, {graph: "extensions"},
		{graph: "singleValueExtendedProperties"}, {graph: "multiValueExtendedProperties"},
		{graph: "events"}, {graph: "calendars"}, {graph: "calendarView"},
		{graph: "calendarGroups"}, {graph: "instances"},
		{graph: "contacts"}, {graph: "contactFolders"},
		{graph: "calendar", kind: segSingle},
		{graph: "delta", kind: segFunction},
		{graph: "sendMail", kind: segAction, body: schema.SendMailParams},
		{graph: "send", kind: segAction},
		{graph: "move", kind: segAction, body: schema.MoveParams, bound: true},
		{graph: "copy", kind: segAction, body: schema.MoveParams, bound: true},
		{graph: "reply", kind: segAction, body: schema.ReplyParams},
		{graph: "replyAll", kind: segAction, body: schema.ReplyParams},
		{graph: "forward", kind: segAction, body: schema.ReplyParams},
		{graph: "createReply", kind: segAction, body: schema.ReplyParams, result: schema.Message},
		{graph: "createReplyAll", kind: segAction, body: schema.ReplyParams,
			result: schema.Message},
		{graph: "createForward", kind: segAction, body: schema.ReplyParams,
			result: schema.Message},
		{graph: "accept", kind: segAction}, {graph: "decline", kind: segAction},
		{graph: "tentativelyAccept", kind: segAction},
		{graph: "dismissReminder", kind: segAction}, {graph: "snoozeReminder", kind: segAction},
	} {
		segments[strings.ToLower(s.graph)] = s
	}
}

// spell writes a known segment name in dialect d.
func (s pathSegment) spell(d schema.Dialect) string {
	if d == schema.REST {
		return schema.Pascal(s.graph)
	}
	return s.graph
}

// contextPart is one step of the resource path as @odata.context names it.
type contextPart struct {
	name   string
	key    string
	hasKey bool
}

// resource is what a path addresses once translated.
type resource struct {
	segs   []string           // escaped segments in the target dialect
	parts  []contextPart      // Graph spelling, for @odata.context
	typ    *schema.StructType // type of the entity or collection elements; nil if unknown
	entity bool               // the path ends at one entity
	action *pathSegment       // the last segment is an action
	raw    bool               // $value, $count, $ref: the answer is not an entity
	delta  bool               // messages/delta, sent as v2.0 track-changes (delta.go)
}

// bodyType is the type of the request body, nil when unknown.
func (res *resource) bodyType() *schema.StructType {
	if res.action != nil {
		return res.action.body
	}
	return res.typ
}

// resultType is the type of the answer body, nil when unknown.
func (res *resource) resultType() *schema.StructType {
	if res.action == nil {
		return res.typ
	}
	if res.action.bound {
		return res.typ
	}
	return res.action.result
}

// translatePath turns unescaped path segments after users/{id} into the
// escaped segments of dialect to. A segment in key position (after a
// collection) is an id or a well-known name and is kept as it is; names are
// matched without regard to case, as Exchange does (reference §1.2).
func translatePath(in []string, to schema.Dialect) resource {
	var res resource
	expectKey := false
	for _, s := range in {
		name, key, hasKey := splitKey(s)
		sg, known := segments[strings.ToLower(name)]
		if expectKey && !hasKey && !isName(s, sg, known) {
			res.addKey(s)
			expectKey = false
			continue
		}
		expectKey = false
		res.entity = false
		switch {
		case strings.HasPrefix(s, "$"):
			res.segs = append(res.segs, url.PathEscape(s))
			res.raw = true
			continue
		case !known && strings.Contains(name, "."):
			// A type cast (microsoft.graph.eventMessage) or a namespaced
			// action; the type may be registered with schema.
			res.segs = append(res.segs, url.PathEscape(castName(name, to)))
			res.parts = append(res.parts, contextPart{name: castName(name, schema.Graph)})
			res.typ = castType(name)
			continue
		case !known:
			res.segs = append(res.segs, url.PathEscape(caseFor(to)(name)))
			res.parts = append(res.parts, contextPart{name: schema.Camel(name)})
			res.typ = nil
			continue
		}
		res.named(sg, to)
		expectKey = sg.kind == segCollection
		if hasKey {
			res.addKey(key)
			expectKey = false
		}
	}
	return res
}

// isName reports whether s, in key position, is still a name: a $ segment,
// the delta function, or a type cast. Ids never hold dots or start with $.
func isName(s string, sg pathSegment, known bool) bool {
	return strings.HasPrefix(s, "$") || (known && sg.kind == segFunction) ||
		strings.Contains(s, ".")
}

// named appends a known segment and moves the addressed type along.
func (res *resource) named(sg pathSegment, to schema.Dialect) {
	res.segs = append(res.segs, sg.spell(to))
	res.parts = append(res.parts, contextPart{name: sg.graph})
	switch sg.kind {
	case segAction:
		res.action = &sg
	case segFunction:
	case segSingle:
		res.typ = schema.Entities[strings.ToLower(sg.graph)]
		res.entity = true
	default:
		// childFolders holds folders of the parent's kind (mail or
		// contacts); other collections have their own type.
		if strings.EqualFold(sg.graph, "childFolders") && res.typ != nil {
			break
		}
		res.typ = schema.Entities[strings.ToLower(sg.graph)]
	}
}

func (res *resource) addKey(key string) {
	res.segs = append(res.segs, url.PathEscape(key))
	if n := len(res.parts); n > 0 && !res.parts[n-1].hasKey {
		res.parts[n-1].key, res.parts[n-1].hasKey = key, true
	}
	res.entity = true
}

// splitKey splits OData key syntax, name('key') or name(key), into its
// parts. Only a known segment name is split: ids never hold parentheses,
// but a stray one must not turn an id into a name.
func splitKey(s string) (name, key string, ok bool) {
	open := strings.IndexByte(s, '(')
	if open <= 0 || !strings.HasSuffix(s, ")") {
		return s, "", false
	}
	if _, known := segments[strings.ToLower(s[:open])]; !known {
		return s, "", false
	}
	key = s[open+1 : len(s)-1]
	if len(key) >= 2 && key[0] == '\'' && key[len(key)-1] == '\'' {
		key = strings.ReplaceAll(key[1:len(key)-1], "''", "'")
	}
	return s[:open], key, key != ""
}

// castName spells a namespace-qualified type name in dialect to; Exchange's
// own namespace is accepted on input, as schema.TypeName does.
func castName(name string, to schema.Dialect) string {
	if n, ok := schema.TypeName(name, to); ok {
		return n
	}
	short := name[strings.LastIndexByte(name, '.')+1:]
	ns := strings.ToLower(name[:len(name)-len(short)])
	switch ns {
	case "microsoft.graph.", "microsoft.outlookservices.",
		"microsoft.exchange.services.odata.model.":
	default:
		return name // not a type of either service: leave it alone
	}
	if to == schema.REST {
		return "Microsoft.OutlookServices." + schema.Pascal(short)
	}
	return "microsoft.graph." + schema.Camel(short)
}

// castType returns the schema type a cast names, nil when unregistered.
func castType(name string) *schema.StructType {
	short := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
	for _, t := range schema.Entities {
		if strings.ToLower(t.Graph) == short {
			return t
		}
	}
	return nil
}

// caseFor returns the naming rule of dialect d for names the schema does
// not know: only the first letter changes (reference §1.3).
func caseFor(d schema.Dialect) func(string) string {
	if d == schema.REST {
		return schema.Pascal
	}
	return schema.Camel
}

// contextPath renders the Graph resource path of @odata.context, after
// users('upn')/: keys in parentheses, the entity form /$entity, and the
// $select list on the last collection (graph-api.md §3.1).
func (res *resource) contextPath(selectList string) string {
	var b strings.Builder
	for i, p := range res.parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p.name)
		last := i == len(res.parts)-1
		if p.hasKey && !last {
			b.WriteString("(" + contextKey(p.key) + ")")
		}
		if last && selectList != "" {
			b.WriteString("(" + selectList + ")")
		}
	}
	if res.entity {
		b.WriteString("/$entity")
	}
	return b.String()
}

// contextKey writes a key of @odata.context: an OData string literal,
// percent-encoded as Graph does ('AAMk…%3D', graph-api.md §3.1).
func contextKey(key string) string {
	doubled := strings.ReplaceAll(key, "'", "''")
	return "'" + strings.ReplaceAll(url.QueryEscape(doubled), "+", "%20") + "'"
}
