package hybrid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Message delta on premises. Graph tracks a folder's messages with the
// delta function, GET …/mailFolders/{id}/messages/delta; Outlook REST v2.0
// has no such function but the same query on the collection itself with
// Prefer: odata.track-changes, whose links carry the same $skiptoken and
// $deltatoken (exchange-hybrid.md §1.3, "Delta/sync" row). The router sends
// the one as the other and turns the answer back:
//
//   - links name the collection on premises; on the gateway they name the
//     delta function again, their tokens untouched (opaque to us);
//   - @odata.context is Graph's "…#Collection(message)" (graph-api.md §3.1);
//   - removed messages come from a v2.0 server either in Graph's own form
//     ("@removed", kept) or in the OData 4.0 form of a deleted entity, an
//     entry with "reason" and the id, which becomes Graph's
//     {"@odata.type", "id", "@removed": {"reason"}} (graph-api.md §3.4).

// trackChanges recognises messages/delta at the end of a translated path
// and makes it the v2.0 request: the Delta segment is dropped and the
// request will carry Prefer: odata.track-changes.
func (res *resource) trackChanges() {
	n := len(res.parts)
	if n < 2 || res.parts[n-1].name != "delta" || res.parts[n-2].name != "messages" ||
		res.parts[n-2].hasKey {
		return
	}
	res.segs = res.segs[:len(res.segs)-1]
	res.parts = res.parts[:n-1]
	res.delta = true
}

// trackChangesPreference is the preference that asks v2.0 for changes.
const trackChangesPreference = "odata.track-changes"

// deltaPage finishes a translated delta page: removals in Graph's form,
// and Graph's @odata.context, which a v2.0 page may lack. Other members
// and entries are kept byte for byte.
func deltaPage(body []byte, context string) ([]byte, error) {
	var page map[string]json.RawMessage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fmt.Errorf("delta page: %w", err)
	}
	var values []json.RawMessage
	if err := json.Unmarshal(page["value"], &values); err != nil {
		return nil, fmt.Errorf("delta page value: %w", err)
	}
	for i, v := range values {
		var entry struct {
			ID      *string         `json:"id"`
			Reason  *string         `json:"reason"`
			Removed json.RawMessage `json:"@removed"`
		}
		if err := json.Unmarshal(v, &entry); err != nil {
			return nil, fmt.Errorf("delta entry: %w", err)
		}
		if entry.Reason == nil || entry.Removed != nil || entry.ID == nil {
			continue
		}
		values[i] = removedEntry(deletedEntityKey(*entry.ID), *entry.Reason)
	}
	// Joined by hand: json.Marshal would re-escape "<" and "&" in bodies.
	list := []byte{'['}
	for i, v := range values {
		if i > 0 {
			list = append(list, ',')
		}
		list = append(list, v...)
	}
	page["value"] = append(list, ']')
	page["@odata.context"] = quote(context)
	return marshalPage(page)
}

// removedEntry is Graph's removed message.
func removedEntry(id, reason string) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"@odata.type":"#microsoft.graph.message","id":`)
	b.Write(quote(id))
	b.WriteString(`,"@removed":{"reason":`)
	b.Write(quote(reason))
	b.WriteString(`}}`)
	return b.Bytes()
}

// deletedEntityKey returns the key of an OData entity id such as
// "Messages('AAMk…')", which the 4.0 form may give instead of the bare id.
func deletedEntityKey(id string) string {
	open := strings.LastIndex(id, "('")
	if open < 0 || open+4 > len(id) || !strings.HasSuffix(id, "')") {
		return id
	}
	return strings.ReplaceAll(id[open+2:len(id)-2], "''", "'")
}

// marshalPage writes a delta page with its members in Graph's order:
// @odata.context, value, then the links.
func marshalPage(page map[string]json.RawMessage) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	write := func(k string) {
		v, ok := page[k]
		if !ok {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(quote(k))
		b.WriteByte(':')
		b.Write(v)
		delete(page, k)
	}
	write("@odata.context")
	write("value")
	write("@odata.nextLink")
	write("@odata.deltaLink")
	rest := make([]string, 0, len(page))
	for k := range page {
		rest = append(rest, k)
	}
	slices.Sort(rest)
	for _, k := range rest {
		write(k)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
