package mailapi

import (
	"bytes"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
	"github.com/hybridgraph/hybridgraph/internal/store"
)

// Delta query of a folder's messages: GET mailFolders/{id}/messages/delta
// (Graph message-delta; graph-api.md §3.3–3.4). The first request may
// carry $select; every later one follows an @odata.nextLink
// ($skiptoken, the rest of a round) or an @odata.deltaLink ($deltatoken,
// the next round) unchanged, and the token carries the $select list. The
// engine (mailbox.MessageDelta) keeps no state between requests, so a link
// issued by one gateway works on any other over the same database.
//
// Outlook REST v2.0 has no delta function: a GET of the messages
// collection with Prefer: odata.track-changes asks for the same thing, and
// its links carry the same two tokens on the collection's own URL
// (exchange-hybrid.md §1.3, "Delta/sync" row).

// Token parameters of delta links. They are not OData system query
// options of package odata, so they are taken out before it parses.
const (
	paramSkipToken  = "$skiptoken"
	paramDeltaToken = "$deltatoken"
)

func (f *Face) messageDelta(c *Call, res resource) error {
	if res.folder == "" {
		// Graph tracks message changes per folder only
		// (delta-query-messages); the message is the service's own.
		return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidUrlQuery",
			"Unsupported request: Change tracking is not supported against "+
				"'microsoft.graph.message'. Track the messages of a folder: "+
				"mailFolders/{id}/messages/delta.")
	}
	from, sel, err := f.deltaRequest(c)
	if err != nil {
		return err
	}
	selected, err := f.deltaSelect(sel)
	if err != nil {
		return err
	}
	size, sizeApplied := maxPageSize(c.R.Header)
	page, err := f.Engine.MessageDelta(c.R.Context(), c.Mailbox, res.folder, from, sel, size)
	if err != nil {
		return engineError(err)
	}

	convert := applyBodyPreference(c.W, c.R)
	// The service answers delta with Preference-Applied:
	// odata.track-changes (graph-api.md §3.4, last point). One field
	// holds every applied preference (RFC 7240 §3), so that a proxy
	// copying one field keeps them all.
	applied := []string{"odata.track-changes"}
	if sizeApplied {
		applied = append(applied, "odata.maxpagesize="+strconv.Itoa(size))
	}
	if prev := c.W.Header().Get("Preference-Applied"); prev != "" {
		applied = append([]string{prev}, applied...)
	}
	c.W.Header().Set("Preference-Applied", strings.Join(applied, ", "))
	values := make([][]byte, len(page.Changes))
	removedContext := c.ContextBase + contextPath(res.path) + "/$deletedEntity"
	for i, ch := range page.Changes {
		if values[i], err = f.deltaEntry(ch, selected, convert, removedContext); err != nil {
			return err
		}
	}
	param, kind := paramDeltaToken, mailbox.DeltaToken
	if page.More {
		param, kind = paramSkipToken, mailbox.SkipToken
	}
	link := *c.RequestURL
	link.RawQuery, link.ForceQuery = param+"="+mailbox.EncodeToken(page.Next, kind), false
	base, _, _ := strings.Cut(c.ContextBase, "#")
	body := deltaCollection(base+"#Collection("+collectionType(f.Dialect)+")",
		values, page.More, link.String())
	return writeJSON(c.W, http.StatusOK, body)
}

// deltaRequest reads the query of a delta request: a skip or delta token,
// alone, or the options of a first round, of which only $select is
// served. It returns the state the token carries (nil for a first round)
// and the $select list in Graph names.
func (f *Face) deltaRequest(c *Call) (*mailbox.DeltaState, string, error) {
	v, err := c.query()
	if err != nil {
		return nil, "", err
	}
	var (
		tok  string
		kind mailbox.TokenKind
		n    int
	)
	for key, vals := range v {
		switch strings.ToLower(key) {
		case paramSkipToken:
			tok, kind, n = vals[0], mailbox.SkipToken, n+len(vals)
			delete(v, key)
		case paramDeltaToken:
			tok, kind, n = vals[0], mailbox.DeltaToken, n+len(vals)
			delete(v, key)
		}
	}
	if n > 1 {
		return nil, "", httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidUrlQuery",
			"A delta request takes one $skiptoken or $deltatoken.")
	}
	if n == 1 {
		if len(v) > 0 {
			key := slices.Sorted(maps.Keys(v))[0]
			return nil, "", httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidUrlQuery",
				"The query option '%s' cannot be sent with a delta or skip token: the "+
					"token carries the options of the first request.", key)
		}
		st, err := mailbox.ParseToken(tok, kind)
		if err != nil {
			return nil, "", err
		}
		return &st, st.Select, nil
	}
	return f.firstRound(v)
}

// firstRound reads the options of a first delta request. $select is
// served; the others a delta may take are refused rather than ignored.
func (f *Face) firstRound(v url.Values) (*mailbox.DeltaState, string, error) {
	for key := range v {
		switch strings.ToLower(key) {
		case "$select":
		case "$filter", "$orderby", "$top", "$expand", "changetype":
			// TODO: delta's $filter (receivedDateTime ge), $orderby
			// (receivedDateTime desc), $top, $expand and the changeType
			// option (created, updated, deleted) are not served; clients
			// that send them get this 400 rather than an unfiltered answer.
			return nil, "", httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidUrlQuery",
				"The query option '%s' is not supported on message delta.", key)
		default:
			if strings.HasPrefix(key, "$") {
				return nil, "", httpserver.Errorf(http.StatusBadRequest,
					"ErrorInvalidUrlQuery",
					"The query option '%s' is not supported on message delta.", key)
			}
		}
	}
	q, err := odata.Parse(v, schema.Message, f.Dialect, f.Limits)
	if err != nil {
		return nil, "", err
	}
	if q.Select == nil {
		return nil, "", nil
	}
	return nil, odata.SelectList(q.Select, schema.Graph), nil
}

// deltaSelect turns a token's $select list (Graph names) back into
// properties; nil means every default property.
func (f *Face) deltaSelect(sel string) ([]*schema.Property, error) {
	if sel == "" {
		return nil, nil
	}
	q, err := odata.Parse(url.Values{"$select": {sel}}, schema.Message, schema.Graph,
		f.Limits)
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "ErrorInvalidSyncStateData",
			"The delta or skip token is not valid for this folder; start a new sync "+
				"without a token.")
	}
	return q.Select, nil
}

// deltaEntry renders one change: the message as selected, or a removal.
// Graph shapes a removal {"@odata.type", "id", "@removed": {"reason":
// "deleted"}}, for deleted and moved-out messages alike (graph-api.md
// §3.4). Outlook REST v2.0 is OData 4.0, whose JSON format writes a
// deleted entity as {"@odata.context": "…/$deletedEntity", "id",
// "reason"} (OData JSON Format 4.0 §14.4); the property is spelled Id as
// everywhere on that face (inferred: the reference gives no v2.0 example).
func (f *Face) deltaEntry(ch store.Change, sel []*schema.Property,
	convert func([]byte) ([]byte, error), removedContext string) ([]byte, error) {
	if !ch.Removed {
		return shapeMessage(ch.Item.Doc, f.Dialect, sel, convert)
	}
	var b bytes.Buffer
	if f.Dialect == schema.REST {
		b.WriteString(`{"@odata.context":`)
		b.Write(quote(removedContext))
		b.WriteString(`,"Id":`)
		b.Write(quote(ch.ID))
		b.WriteString(`,"reason":"deleted"}`)
		return b.Bytes(), nil
	}
	b.WriteString(`{"@odata.type":`)
	b.Write(quote("#" + schema.Message.FullName(f.Dialect)))
	b.WriteString(`,"id":`)
	b.Write(quote(ch.ID))
	b.WriteString(`,"@removed":{"reason":"deleted"}}`)
	return b.Bytes(), nil
}

// tracksChanges reports a v2.0 request for changes: a GET of a messages
// collection with Prefer: odata.track-changes, or one that follows a
// link with a token.
func (f *Face) tracksChanges(c *Call) bool {
	if f.Dialect != schema.REST || c.R.Method != http.MethodGet {
		return false
	}
	for _, line := range c.R.Header.Values("Prefer") {
		for _, pref := range strings.Split(line, ",") {
			if strings.EqualFold(strings.TrimSpace(pref), "odata.track-changes") {
				return true
			}
		}
	}
	for key := range c.R.URL.Query() {
		if k := strings.ToLower(key); k == paramSkipToken || k == paramDeltaToken {
			return true
		}
	}
	return false
}

// deltaCollection assembles a delta page: "@odata.context", "value", then
// "@odata.nextLink" while the round goes on or "@odata.deltaLink" at its
// end.
func deltaCollection(context string, values [][]byte, more bool, link string) []byte {
	body := collection(context, -1, values, "")
	name := `"@odata.deltaLink":`
	if more {
		name = `"@odata.nextLink":`
	}
	var b bytes.Buffer
	b.Grow(len(body) + len(link) + 24)
	b.Write(body[:len(body)-1])
	b.WriteString("," + name)
	b.Write(quote(link))
	b.WriteByte('}')
	return b.Bytes()
}

// maxPageSize reads Prefer: odata.maxpagesize=n (graph-api.md §4). It
// returns the page size to use and whether the preference was honoured,
// for Preference-Applied. A value that is not a positive number is
// ignored, as a preference the server does not understand (RFC 7240 §2);
// one above the maximum is lowered to it.
func maxPageSize(h http.Header) (int, bool) {
	size, applied := mailbox.DefaultDeltaPageSize, false
	for _, line := range h.Values("Prefer") {
		for _, pref := range strings.Split(line, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "odata.maxpagesize") {
				continue
			}
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(value), `"`))
			if err != nil || n < 1 {
				continue
			}
			size, applied = min(n, mailbox.MaxDeltaPageSize), true
		}
	}
	return size, applied
}

// collectionType names the entries of a delta page in @odata.context, as
// Graph's examples do: "…#Collection(message)" (graph-api.md §3.1).
func collectionType(d schema.Dialect) string {
	if d == schema.REST {
		return schema.Message.REST
	}
	return schema.Message.Graph
}
