package mailapi

import (
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// newestSent is the order of $search results: Graph sorts them by the
// date and time the message was sent, newest first
// (learn.microsoft.com/graph/search-query-parameter); $orderby is refused
// beside $search, so this is always the order.
var newestSent = func() store.Order {
	col, _, _ := schema.Message.Resolve(schema.Graph, "sentDateTime")
	return store.Order{Column: col.Name, Desc: true}
}()

// searchOrder sets the order of a message list with $search.
func searchOrder(q *odata.Query) {
	if q.Searching() {
		q.DefaultOrder(newestSent)
	}
}

// searchCount caps @odata.count of a search at the results it can return.
func searchCount(q *odata.Query, n int) int {
	if q.Searching() {
		return min(n, odata.MaxSearchResults)
	}
	return n
}
