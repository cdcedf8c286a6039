package mailbox

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/mime"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// A document is a decoded JSON object: map[string]any with json.Number
// for numbers, keyed by canonical Graph names once validated or read back
// from the store.
type document = map[string]any

// decodeObject reads one JSON object. Malformed JSON, trailing data or a
// value that is not an object is 400 RequestBodyRead, the code Graph gives
// a body its OData reader cannot read.
func decodeObject(raw []byte) (document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body has data after the JSON object.")
	}
	m, ok := v.(document)
	if !ok {
		return nil, httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
			"The request body must be a JSON object of type 'microsoft.graph.message'.")
	}
	return m, nil
}

// readStored decodes a document the engine wrote itself.
func readStored(raw []byte) (document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m document
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode stored document: %w", err)
	}
	return m, nil
}

// clientMessage reads a message document sent by a client (create, PATCH,
// sendMail) and checks it against schema.Message: names are made canonical
// (both services accept any casing), enum members get their Graph spelling,
// and read-only properties are refused.
func clientMessage(raw []byte) (document, error) {
	m, err := decodeObject(raw)
	if err != nil {
		return nil, err
	}
	out, err := checkObject(schema.Message, m)
	if err != nil {
		return nil, err
	}
	for name := range out {
		if p := schema.Message.Prop(schema.Graph, name); p.ReadOnly {
			// Exchange's ResponseCode list describes ErrorInvalidPropertySet as
			// the failure to set a read-only property (EWS ResponseCode
			// reference, which Graph's Outlook errors follow, graph-api.md §5).
			return nil, httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidPropertySet",
				"The property '%s' is read-only and cannot be set.", name)
		}
	}
	return out, nil
}

// checkObject validates an object of type t and returns it with canonical
// names. Instance annotations ("@odata.type", "@odata.etag", ...) are
// dropped: the engine keeps no client annotations.
func checkObject(t *schema.StructType, m document) (document, error) {
	out := make(document, len(m))
	for key, v := range m {
		if strings.Contains(key, "@") {
			continue
		}
		p := t.Prop(schema.Graph, key)
		if p == nil {
			// The OData reader's words for a property the type does not declare.
			return nil, httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
				"The property '%s' does not exist on type '%s'. Make sure to only use "+
					"property names that are defined by the type or mark the type as open type.",
				key, t.FullName(schema.Graph))
		}
		nv, err := checkValue(p, v)
		if err != nil {
			return nil, err
		}
		out[p.Graph] = nv
	}
	return out, nil
}

// checkValue checks one property value against its declared type and
// returns it normalised. null is accepted for every property.
func checkValue(p *schema.Property, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !p.Collection {
		return checkSingle(p, v)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, wrongType(p)
	}
	out := make([]any, len(list))
	for i, el := range list {
		nv, err := checkSingle(p, el)
		if err != nil {
			return nil, err
		}
		out[i] = nv
	}
	return out, nil
}

func checkSingle(p *schema.Property, v any) (any, error) {
	switch p.Kind {
	case schema.Bool:
		if _, ok := v.(bool); ok {
			return v, nil
		}
	case schema.Int32:
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
				return n, nil
			}
		}
	case schema.DateTimeOffset:
		if s, ok := v.(string); ok {
			if t, err := schema.ParseTime(s); err == nil {
				return schema.FormatTime(t), nil
			}
		}
	case schema.Enum:
		if s, ok := v.(string); ok {
			if m, ok := p.Enum.Canonical(s); ok {
				return m, nil
			}
			return nil, httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
				"Cannot convert the literal '%s' to the expected type 'microsoft.graph.%s'.",
				s, p.Enum.Name)
		}
	case schema.Binary:
		if s, ok := v.(string); ok {
			if _, err := base64.StdEncoding.DecodeString(s); err == nil {
				return s, nil
			}
		}
	case schema.Struct:
		if m, ok := v.(document); ok {
			return checkObject(p.Type, m)
		}
	default:
		if _, ok := v.(string); ok {
			return v, nil
		}
	}
	return nil, wrongType(p)
}

// wrongType is a value of the wrong JSON type: 400 RequestBodyRead, as
// Graph's OData reader answers it.
func wrongType(p *schema.Property) error {
	return httpserver.Errorf(http.StatusBadRequest, "RequestBodyRead",
		"Cannot read the value of property '%s' as the expected type '%s'.",
		p.Graph, edmType(p))
}

// edmType names a property's type as the Graph CSDL does.
func edmType(p *schema.Property) string {
	var name string
	switch p.Kind {
	case schema.Bool:
		name = "Edm.Boolean"
	case schema.Int32:
		name = "Edm.Int32"
	case schema.DateTimeOffset:
		name = "Edm.DateTimeOffset"
	case schema.Binary:
		name = "Edm.Binary"
	case schema.Enum:
		name = "microsoft.graph." + p.Enum.Name
	case schema.Struct:
		name = p.Type.FullName(schema.Graph)
	default:
		name = "Edm.String"
	}
	if p.Collection {
		return "Collection(" + name + ")"
	}
	return name
}

// encode writes m as JSON with the properties of t in schema order, the
// order Graph writes them in, so stored documents and responses read the
// same way every time. Names t does not know come last, sorted.
func encode(t *schema.StructType, m document) []byte {
	var b bytes.Buffer
	writeObject(&b, t, m)
	return b.Bytes()
}

func writeObject(b *bytes.Buffer, t *schema.StructType, m document) {
	b.WriteByte('{')
	n := 0
	member := func(name string, p *schema.Property, v any) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		writeScalar(b, name)
		b.WriteByte(':')
		writeValue(b, p, v)
	}
	var known map[string]bool
	if t != nil {
		known = make(map[string]bool, len(t.Props))
		for _, p := range t.Props {
			known[p.Graph] = true
			if v, ok := m[p.Graph]; ok {
				member(p.Graph, p, v)
			}
		}
	}
	var rest []string
	for k := range m {
		if !known[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		member(k, nil, m[k])
	}
	b.WriteByte('}')
}

func writeValue(b *bytes.Buffer, p *schema.Property, v any) {
	var t *schema.StructType
	if p != nil {
		t = p.Type
	}
	switch x := v.(type) {
	case document:
		writeObject(b, t, x)
	case []any:
		b.WriteByte('[')
		for i, el := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, p, el)
		}
		b.WriteByte(']')
	default:
		writeScalar(b, x)
	}
}

// writeScalar writes a string, number, bool or null without escaping <, >
// and &, so HTML bodies stay readable.
func writeScalar(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only decoded JSON values reach here; they always encode.
		b.WriteString("null")
		return
	}
	b.Truncate(b.Len() - 1) // the encoder's newline
}

// bodyPreview is the body as plain text with whitespace collapsed, cut to
// mime.PreviewLength characters.
func bodyPreview(body any) string {
	m, _ := body.(document)
	content, _ := m["content"].(string)
	ct, _ := m["contentType"].(string)
	return mime.Preview(ct, content)
}

// sameJSON reports whether two decoded values are the same JSON value.
// encoding/json sorts map keys, so equal objects encode equally.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
