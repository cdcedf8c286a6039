package odata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// Names the OData protocol itself defines, not a resource: every Graph
// entity's key is "id" ("Id" in v2.0) and every Outlook item has a change
// key, which OData clients see as the entity's ETag (graph-api.md §3.1:
// each Outlook item in "value" carries "@odata.etag").
const (
	keyProperty       = "id"
	changeKeyProperty = "changeKey"
	annotationETag    = "@odata.etag"
	annotationType    = "@odata.type"
)

// Annotation is an instance annotation written before an item's
// properties, such as {"@odata.type", "#microsoft.graph.eventMessage"}.
// Name and Value are in Graph terms; the REST face's translation renames
// the type's value.
type Annotation struct {
	Name  string
	Value any
}

// Shape writes one item of a response: the properties of the
// Graph-canonical document doc that sel selects (nil: every property but
// SelectOnly ones; the key always), in schema order. Annotations come
// first: "@odata.etag":"W/\"<changeKey>\"" when doc has a change key, then
// extra, then the document's own "@odata.type" (or the type's, for types
// marked ODataType). For schema.REST the result is translated to v2.0 names
// and values.
func Shape(doc []byte, t *schema.StructType, d schema.Dialect, sel []*schema.Property,
	extra ...Annotation) ([]byte, error) {
	var odataType []byte
	vals, err := t.Values(doc, func(key string, raw []byte) {
		if key == annotationType {
			odataType = raw
		}
	})
	if err != nil {
		return nil, fmt.Errorf("shape %s: %w", t.Graph, err)
	}

	w := objectWriter{}
	w.buf.Grow(len(doc) + 64)
	w.buf.WriteByte('{')
	if err := w.annotations(t, vals, odataType, extra); err != nil {
		return nil, fmt.Errorf("shape %s: %w", t.Graph, err)
	}
	for i, p := range t.Props {
		if vals[i] != nil && selected(p, sel) {
			w.member(p.Graph, vals[i])
		}
	}
	w.buf.WriteByte('}')

	if d == schema.REST {
		out, err := schema.Translate(w.buf.Bytes(), t, schema.Graph, schema.REST)
		if err != nil {
			return nil, fmt.Errorf("shape %s: %w", t.Graph, err)
		}
		return out, nil
	}
	return w.buf.Bytes(), nil
}

// selected reports whether p belongs in the output for sel.
func selected(p *schema.Property, sel []*schema.Property) bool {
	if p.Graph == keyProperty {
		return true
	}
	if sel == nil {
		return !p.SelectOnly
	}
	return slices.Contains(sel, p)
}

// objectWriter appends the members of one JSON object. The schema names
// each property once, so no member repeats.
type objectWriter struct {
	buf bytes.Buffer
	n   int
}

func (w *objectWriter) member(name string, raw []byte) {
	if w.n > 0 {
		w.buf.WriteByte(',')
	}
	w.n++
	w.buf.WriteByte('"')
	w.buf.WriteString(name) // property and annotation names are plain ASCII
	w.buf.WriteString(`":`)
	w.buf.Write(raw)
}

// annotations writes the item's annotations in their fixed order.
func (w *objectWriter) annotations(t *schema.StructType, vals [][]byte, odataType []byte,
	extra []Annotation) error {
	if p := t.Prop(schema.Graph, changeKeyProperty); p != nil {
		var ck string
		raw := vals[slices.Index(t.Props, p)]
		if raw != nil && json.Unmarshal(raw, &ck) == nil && ck != "" {
			etag, _ := json.Marshal(`W/"` + ck + `"`)
			w.member(annotationETag, etag)
		}
	}
	typed := false
	for _, a := range extra {
		v, err := json.Marshal(a.Value)
		if err != nil {
			return fmt.Errorf("annotation %s: %w", a.Name, err)
		}
		w.member(a.Name, v)
		typed = typed || a.Name == annotationType
	}
	switch {
	case typed:
	case odataType != nil:
		w.member(annotationType, odataType)
	case t.ODataType:
		v, _ := json.Marshal("#" + t.FullName(schema.Graph))
		w.member(annotationType, v)
	}
	return nil
}
