package schema

import (
	"strings"
)

// Dialect selects which API face a name or value belongs to.
type Dialect int

const (
	// Graph is Microsoft Graph v1.0: camelCase names, microsoft.graph.* types.
	Graph Dialect = iota
	// REST is Outlook REST v2.0 as served by Exchange 2016: PascalCase names,
	// Microsoft.OutlookServices.* types.
	REST
)

func (d Dialect) String() string {
	if d == REST {
		return "rest"
	}
	return "graph"
}

// Kind is the JSON shape of a property value.
type Kind int

const (
	String Kind = iota
	Bool
	Int32
	DateTimeOffset // ISO 8601 in UTC, stored as text in TimeLayout
	Enum
	Struct // a complex type or an entity
	Binary // base64 string
)

// TimeLayout is how DateTimeOffset values are written in documents and
// columns: fixed width, UTC, so that text order is time order.
const TimeLayout = "2006-01-02T15:04:05Z"

// Property is one property of a structured type.
type Property struct {
	Graph string // camelCase name on the Graph face
	REST  string // PascalCase name on the Outlook REST v2.0 face

	Kind       Kind
	Collection bool
	Type       *StructType // for Struct
	Enum       *EnumType   // for Enum

	// ReadOnly properties are set by the server; a client value is refused.
	ReadOnly bool
	// DraftOnly properties may be changed only while the message is a draft
	// (Graph: message-update, "only if isDraft = true").
	DraftOnly bool
	// SelectOnly properties are left out of responses unless $select names them
	// (uniqueBody, internetMessageHeaders).
	SelectOnly bool
}

// Name returns the property's name in dialect d.
func (p *Property) Name(d Dialect) string {
	if d == REST {
		return p.REST
	}
	return p.Graph
}

// Column maps a property path of an entity onto a database column. Only
// paths with a column can be used in $filter and $orderby; everything else
// lives in the item's JSON document.
type Column struct {
	Path     string // Graph path, e.g. "from/emailAddress/address"
	Name     string // SQL column name
	Kind     Kind   // String, Bool, Int32, DateTimeOffset or Enum
	Enum     *EnumType
	Sortable bool
}

// StructType is an entity type, a complex type or the parameter set of an
// action. Entities have a Table and Columns.
type StructType struct {
	Graph string // short Graph name, e.g. "message"
	REST  string // short v2.0 name, e.g. "Message"

	Props   []*Property
	Columns []*Column
	Table   string // SQL table for entity types
	// ODataType marks types whose instances carry "@odata.type" on output.
	ODataType bool

	exact   [2]map[string]*Property // exact spelling, per dialect
	index   [2]map[string]int       // exact spelling → position in Props
	byGraph map[string]*Property    // lower-cased Graph name
	byREST  map[string]*Property    // lower-cased REST name
	byPath  map[string]*Column      // lower-cased Graph path
}

// FullName is the namespace-qualified type name used in "@odata.type".
func (t *StructType) FullName(d Dialect) string {
	if d == REST {
		return "Microsoft.OutlookServices." + t.REST
	}
	return "microsoft.graph." + t.Graph
}

// Prop finds a property by name in dialect d, ignoring case as both
// services do.
func (t *StructType) Prop(d Dialect, name string) *Property {
	if d == REST {
		return t.byREST[strings.ToLower(name)]
	}
	return t.byGraph[strings.ToLower(name)]
}

// propBytes is Prop for a name given as bytes. The exact spelling is found
// without allocating (the gateway looks up every key of every answer);
// other casings take the slower path.
func (t *StructType) propBytes(d Dialect, name []byte) *Property {
	if p := t.exact[d][string(name)]; p != nil {
		return p
	}
	if len(name) > 64 {
		return nil
	}
	var buf [64]byte
	lower := buf[:len(name)]
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	if d == REST {
		return t.byREST[string(lower)]
	}
	return t.byGraph[string(lower)]
}

// Resolve turns a slash-separated property path in dialect d into its
// column. ok is false when the path names no property; col is nil when it
// names a property that has no column (not filterable or sortable).
func (t *StructType) Resolve(d Dialect, path string) (col *Column, canonical string, ok bool) {
	cur := t
	var parts []string
	for _, seg := range strings.Split(path, "/") {
		if cur == nil {
			return nil, "", false
		}
		p := cur.Prop(d, seg)
		if p == nil {
			return nil, "", false
		}
		parts = append(parts, p.Graph)
		cur = p.Type
	}
	canonical = strings.Join(parts, "/")
	return t.byPath[strings.ToLower(canonical)], canonical, true
}

// EnumType is an enumeration. Graph serialises members in lower camel case;
// v2.0 in Pascal case, with a few spellings of its own.
type EnumType struct {
	Name    string
	Members []string          // Graph spellings
	REST    map[string]string // Graph member → v2.0 spelling, where not simply Pascal case
}

// Canonical returns the Graph spelling of v, accepting any casing of either
// dialect's spelling.
func (e *EnumType) Canonical(v string) (string, bool) {
	for _, m := range e.Members {
		if strings.EqualFold(m, v) || strings.EqualFold(e.Value(REST, m), v) {
			return m, true
		}
	}
	return "", false
}

// Value spells the Graph member m in dialect d.
func (e *EnumType) Value(d Dialect, m string) string {
	if d == Graph {
		return m
	}
	if r, ok := e.REST[m]; ok {
		return r
	}
	return Pascal(m)
}

// Pascal upper-cases the first letter: the v2.0 rule for names.
func Pascal(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Camel lower-cases the first letter: the Graph rule for names.
func Camel(s string) string {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return s
	}
	return string(s[0]-'A'+'a') + s[1:]
}

// finish indexes a type's properties and columns. Types are built once at
// package initialisation.
func (t *StructType) finish() *StructType {
	t.exact = [2]map[string]*Property{make(map[string]*Property), make(map[string]*Property)}
	t.index = [2]map[string]int{make(map[string]int), make(map[string]int)}
	t.byGraph = make(map[string]*Property, len(t.Props))
	t.byREST = make(map[string]*Property, len(t.Props))
	t.byPath = make(map[string]*Column, len(t.Columns))
	for i, p := range t.Props {
		if p.REST == "" {
			p.REST = Pascal(p.Graph)
		}
		t.exact[Graph][p.Graph] = p
		t.exact[REST][p.REST] = p
		t.index[Graph][p.Graph] = i
		t.index[REST][p.REST] = i
		t.byGraph[strings.ToLower(p.Graph)] = p
		t.byREST[strings.ToLower(p.REST)] = p
	}
	for _, c := range t.Columns {
		t.byPath[strings.ToLower(c.Path)] = c
	}
	if t.REST == "" {
		t.REST = Pascal(t.Graph)
	}
	return t
}
