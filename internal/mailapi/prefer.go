package mailapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/mime"
)

// bodyPreference reads Prefer: outlook.body-content-type="text" | "html"
// (graph-api.md §4). Several preferences may share one Prefer header or
// come in several; the last body-content-type wins. "" means none.
func bodyPreference(h http.Header) string {
	want := ""
	for _, line := range h.Values("Prefer") {
		for _, pref := range strings.Split(line, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(pref), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "outlook.body-content-type") {
				continue
			}
			switch v := strings.ToLower(strings.Trim(strings.TrimSpace(value), `"`)); v {
			case "text", "html":
				want = v
			}
		}
	}
	return want
}

// applyBodyPreference answers with the preferred body type: it records
// Preference-Applied and returns a function that converts a document's
// body and uniqueBody, or nil when there is no preference.
func applyBodyPreference(w http.ResponseWriter, r *http.Request) func([]byte) ([]byte, error) {
	want := bodyPreference(r.Header)
	if want == "" {
		return nil
	}
	w.Header().Set("Preference-Applied", `outlook.body-content-type="`+want+`"`)
	return func(doc []byte) ([]byte, error) { return convertBodies(doc, want) }
}

type itemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// convertBodies rewrites body and uniqueBody of a Graph message document
// as want ("text" or "html"). Other members are kept as they are.
func convertBodies(doc []byte, want string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("convert body: %w", err)
	}
	for _, key := range []string{"body", "uniqueBody"} {
		raw, ok := m[key]
		if !ok || string(raw) == "null" {
			continue
		}
		var b itemBody
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("convert %s: %w", key, err)
		}
		switch {
		case strings.EqualFold(b.ContentType, want):
			continue
		case want == "text":
			b.Content = mime.HTMLToText(b.Content)
		default:
			b.Content = mime.TextToHTML(b.Content)
		}
		b.ContentType = want
		out, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("convert %s: %w", key, err)
		}
		m[key] = out
	}
	return json.Marshal(m)
}
