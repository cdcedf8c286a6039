package sqlstore

import (
	"strconv"

	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Dialect describes what the SQL of one database writes differently.
type Dialect struct {
	// Numbered placeholders are $1, $2, … (PostgreSQL); otherwise each is
	// "?" and bound in order of appearance (SQLite).
	Numbered bool
	// Asc and Desc follow an ORDER BY key. They fix where NULLs sort, so
	// that both databases put them first ascending and last descending.
	Asc, Desc string
	// Text follows a case-insensitive text column that must read back as
	// plain text (a "::text" cast for PostgreSQL's citext), or is empty.
	Text string
	// False is the literal for a false boolean column.
	False string
	// NowMillis is the expression of the database clock's time in
	// milliseconds since 1970: move locks are leases on that clock, so that
	// gateways on machines whose clocks differ agree on them.
	NowMillis string
	// NoLimit is the LIMIT argument that means no limit.
	NoLimit any
	// Rebind, when not nil, turns the "?" placeholders of a Query.Where
	// into the dialect's, numbered from first, and checks that there are
	// nargs of them. When nil, Where is used as it is.
	Rebind func(where string, first, nargs int) (string, error)
	// Search compiles a parsed Query.Search into a condition over the
	// messages table, numbering its placeholders from first, and returns
	// its arguments. Nil means the database cannot search (an error, never
	// a silent scan).
	Search func(e *store.SearchExpr, first int) (string, []any)
}

// Param returns the placeholder of the n-th parameter, counting from 1.
func (d Dialect) Param(n int) string {
	if d.Numbered {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}
