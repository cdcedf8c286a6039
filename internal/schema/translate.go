package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Translate rewrites a JSON document of type t from dialect from to dialect
// to: property names, enum values and "@odata.type" values. Names the schema
// does not know keep their value and change only their first letter, the
// rule both services follow. A collection envelope ({"value":[...]}) of an
// entity type is translated element by element; other annotations are copied.
//
// It works in one pass over the bytes, without decoding into maps, because
// the gateway runs it on every proxied response.
func Translate(data []byte, t *StructType, from, to Dialect) ([]byte, error) {
	return TranslateEdit(data, t, from, to, nil)
}

// AnnotationFunc decides one annotation member ("@odata.context",
// "x@odata.navigationLink", ...) of a document being translated: it gets
// the object nesting depth (1 for the document's own members), the key and
// the translated value, and returns the value to write, or keep false to
// leave the member out.
type AnnotationFunc func(depth int, key string, value []byte) (out []byte, keep bool, err error)

// TranslateEdit is Translate with every annotation passed through edit, in
// the same pass: the gateway rewrites links of every proxied answer.
func TranslateEdit(data []byte, t *StructType, from, to Dialect, edit AnnotationFunc) (
	[]byte, error) {
	x := translator{in: data, out: make([]byte, 0, len(data)+len(data)/16), from: from, to: to,
		edit: edit}
	x.space()
	if err := x.value(t, nil, true); err != nil {
		return nil, err
	}
	x.space()
	if x.pos != len(x.in) {
		return nil, x.fail("trailing data")
	}
	return x.out, nil
}

// TypeName translates a namespace-qualified type name such as
// "#microsoft.graph.message" between dialects. On input it also accepts
// Exchange's own namespace, Microsoft.Exchange.Services.OData.Model.
func TypeName(name string, to Dialect) (string, bool) {
	hash := strings.HasPrefix(name, "#")
	short := name[strings.LastIndexByte(name, '.')+1:]
	t := typesByName[strings.ToLower(short)]
	if t == nil {
		return name, false
	}
	out := t.FullName(to)
	if hash {
		out = "#" + out
	}
	return out, true
}

var typesByName = map[string]*StructType{}

// Register makes t known to TypeName. Types of this package register
// themselves; other packages may add derived types.
func Register(types ...*StructType) {
	for _, t := range types {
		typesByName[strings.ToLower(t.Graph)] = t
	}
}

func init() {
	Register(Message, MailFolder, Recipient, EmailAddress, ItemBody, FollowupFlag,
		DateTimeTimeZone, InternetMessageHeader)
}

type translator struct {
	in       []byte
	pos      int
	out      []byte
	from, to Dialect
	depth    int
	edit     AnnotationFunc
}

// ErrSyntax reports a malformed JSON document.
var ErrSyntax = errors.New("malformed JSON")

func (x *translator) fail(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, x.pos)
}

func (x *translator) space() {
	for x.pos < len(x.in) {
		switch x.in[x.pos] {
		case ' ', '\t', '\r', '\n':
			x.pos++
		default:
			return
		}
	}
}

// value translates one JSON value. t is the structured type expected for an
// object (nil: unknown), p the property it is the value of (for enums), and
// top marks the document root, where a collection envelope may appear.
func (x *translator) value(t *StructType, p *Property, top bool) error {
	if x.pos >= len(x.in) {
		return x.fail("unexpected end")
	}
	switch c := x.in[x.pos]; {
	case c == '{':
		return x.object(t, top)
	case c == '[':
		return x.array(t, p)
	case c == '"':
		if p != nil && p.Kind == Enum {
			s, err := x.str()
			if err != nil {
				return err
			}
			if m, ok := p.Enum.Canonical(s); ok {
				s = p.Enum.Value(x.to, m)
			}
			x.out = appendString(x.out, s)
			return nil
		}
		return x.copyString()
	default:
		return x.copyScalar()
	}
}

func (x *translator) array(t *StructType, p *Property) error {
	if err := x.enter(); err != nil {
		return err
	}
	defer x.leave()
	x.out = append(x.out, '[')
	for more := !x.open(']'); more; {
		x.space()
		if err := x.value(t, p, false); err != nil {
			return err
		}
		var err error
		if more, err = x.next(']'); err != nil {
			return err
		}
		if more {
			x.out = append(x.out, ',')
		}
	}
	x.out = append(x.out, ']')
	return nil
}

func (x *translator) object(t *StructType, top bool) error {
	if err := x.enter(); err != nil {
		return err
	}
	defer x.leave()
	x.out = append(x.out, '{')
	written := 0
	for more := !x.open('}'); more; {
		key, err := x.key()
		if err != nil {
			return err
		}
		wrote, err := x.member(t, key, top, written > 0)
		if err != nil {
			return err
		}
		if wrote {
			written++
		}
		if more, err = x.next('}'); err != nil {
			return err
		}
	}
	x.out = append(x.out, '}')
	return nil
}

// open moves past the opening bracket at pos and reports whether the
// container is empty (its closing bracket end is next, and is passed too).
func (x *translator) open(end byte) (empty bool) {
	x.pos++
	x.space()
	if x.pos < len(x.in) && x.in[x.pos] == end {
		x.pos++
		return true
	}
	return false
}

// key reads a member's name and the colon after it, leaving pos at the
// value. The name is returned as it stands between its quotes.
func (x *translator) key() ([]byte, error) {
	x.space()
	if x.pos >= len(x.in) || x.in[x.pos] != '"' {
		return nil, x.fail("expected a property name")
	}
	k, err := x.rawStr()
	if err != nil {
		return nil, err
	}
	x.space()
	if x.pos >= len(x.in) || x.in[x.pos] != ':' {
		return nil, x.fail("expected :")
	}
	x.pos++
	x.space()
	return k, nil
}

// next moves past the comma or closing bracket after a container's
// element and reports whether another element follows.
func (x *translator) next(end byte) (more bool, err error) {
	x.space()
	if x.pos >= len(x.in) {
		return false, x.fail("unterminated container")
	}
	switch x.in[x.pos] {
	case ',':
		x.pos++
		return true, nil
	case end:
		x.pos++
		return false, nil
	}
	return false, x.fail("expected , or a closing bracket")
}

// member writes one "key": value pair of an object of type t, after a
// comma when comma is set. It reports whether it wrote anything: an
// annotation may be dropped by the edit function.
func (x *translator) member(t *StructType, rawKey []byte, top, comma bool) (bool, error) {
	start := len(x.out)
	if comma {
		x.out = append(x.out, ',')
	}
	if len(rawKey) > 0 && rawKey[0] == '@' || bytes.Contains(rawKey, odataAnnotation) {
		return x.annotation(rawKey, start)
	}
	var p *Property
	if t != nil {
		p = t.propBytes(x.from, rawKey)
	}
	if p == nil && top && t != nil && t.Table != "" && string(rawKey) == "value" {
		x.out = append(x.out, `"value":`...)
		return true, x.value(t, nil, false)
	}
	if p == nil {
		key, err := decodeKey(rawKey)
		if err != nil {
			return false, x.fail("bad property name")
		}
		x.out = appendString(x.out, x.rename(key))
		x.out = append(x.out, ':')
		return true, x.value(nil, nil, false)
	}
	x.out = appendString(x.out, p.Name(x.to))
	x.out = append(x.out, ':')
	return true, x.value(p.Type, p, false)
}

// annotation writes an annotation member; start is where the member (and
// its comma) began in the output, for dropping it.
func (x *translator) annotation(rawKey []byte, start int) (bool, error) {
	key, err := decodeKey(rawKey)
	if err != nil {
		return false, x.fail("bad property name")
	}
	x.out = appendString(x.out, key)
	x.out = append(x.out, ':')
	valStart := len(x.out)
	if strings.HasSuffix(key, "odata.type") && x.pos < len(x.in) && x.in[x.pos] == '"' {
		s, err := x.str()
		if err != nil {
			return false, err
		}
		s, _ = TypeName(s, x.to)
		x.out = appendString(x.out, s)
	} else if err := x.value(nil, nil, false); err != nil {
		return false, err
	}
	if x.edit == nil {
		return true, nil
	}
	v, keep, err := x.edit(x.depth, key, bytes.Clone(x.out[valStart:]))
	if err != nil {
		return false, err
	}
	if !keep {
		x.out = x.out[:start]
		return false, nil
	}
	x.out = append(x.out[:valStart], v...)
	return true, nil
}

var odataAnnotation = []byte("@odata.")

// decodeKey turns the raw bytes between a key's quotes into its text.
func decodeKey(raw []byte) (string, error) {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	var s string
	err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s)
	return s, err
}

func (x *translator) rename(key string) string {
	if x.to == REST {
		return Pascal(key)
	}
	return Camel(key)
}

// rawStr reads a JSON string and returns the bytes between its quotes,
// still escaped; it allocates nothing.
func (x *translator) rawStr() ([]byte, error) {
	start := x.pos
	if err := x.skipString(); err != nil {
		return nil, err
	}
	return x.in[start+1 : x.pos-1], nil
}

// skipString moves past a JSON string, checking its form (RFC 8259 §7).
func (x *translator) skipString() error {
	x.pos++
	for x.pos < len(x.in) {
		switch c := x.in[x.pos]; {
		case c == '"':
			x.pos++
			return nil
		case c == '\\':
			if err := x.skipEscape(); err != nil {
				return err
			}
		case c < 0x20:
			return x.fail("control character in string")
		default:
			x.pos++
		}
	}
	return x.fail("unterminated string")
}

// skipEscape moves past one escape sequence.
func (x *translator) skipEscape() error {
	if x.pos+1 >= len(x.in) {
		return x.fail("unterminated string")
	}
	switch x.in[x.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		x.pos += 2
		return nil
	case 'u':
		if x.pos+6 > len(x.in) {
			return x.fail("short \\u escape")
		}
		for _, h := range x.in[x.pos+2 : x.pos+6] {
			if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
				return x.fail("bad \\u escape")
			}
		}
		x.pos += 6
		return nil
	}
	return x.fail("bad escape")
}

// str reads a JSON string and returns its decoded text.
func (x *translator) str() (string, error) {
	start := x.pos
	x.pos++
	simple := true
	for x.pos < len(x.in) {
		switch c := x.in[x.pos]; {
		case c == '"':
			x.pos++
			if simple {
				return string(x.in[start+1 : x.pos-1]), nil
			}
			var s string
			if err := json.Unmarshal(x.in[start:x.pos], &s); err != nil {
				return "", x.fail("bad string")
			}
			return s, nil
		case c == '\\':
			simple = false
			if err := x.skipEscape(); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", x.fail("control character in string")
		default:
			x.pos++
		}
	}
	return "", x.fail("unterminated string")
}

func (x *translator) copyString() error {
	start := x.pos
	if err := x.skipString(); err != nil {
		return err
	}
	x.out = append(x.out, x.in[start:x.pos]...)
	return nil
}

// copyScalar copies a number, true, false or null after checking its form.
func (x *translator) copyScalar() error {
	start := x.pos
	x.scalarEnd()
	tok := x.in[start:x.pos]
	if err := checkScalar(tok, x); err != nil {
		return err
	}
	x.out = append(x.out, tok...)
	return nil
}

// scalarEnd moves to the end of a number or literal.
func (x *translator) scalarEnd() {
	for x.pos < len(x.in) {
		switch x.in[x.pos] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return
		}
		x.pos++
	}
}

func checkScalar(tok []byte, x *translator) error {
	switch string(tok) {
	case "true", "false", "null":
		return nil
	}
	if len(tok) == 0 || !validNumber(tok) {
		return x.fail("bad literal")
	}
	return nil
}

// validNumber checks the JSON number grammar (RFC 8259 §6).
func validNumber(b []byte) bool {
	i := 0
	if b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// MaxDepth bounds the nesting of a document: deeper input is refused
// rather than walked (encoding/json stops at 10,000; documents of this API
// nest a handful of levels).
const MaxDepth = 256

func (x *translator) enter() error {
	x.depth++
	if x.depth > MaxDepth {
		return x.fail("nesting deeper than the limit")
	}
	return nil
}

func (x *translator) leave() { x.depth-- }

// appendString appends s as a JSON string. Keys and enum values are plain
// ASCII in practice; anything else goes through encoding/json.
func appendString(out []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			plain = false
			break
		}
	}
	if plain {
		out = append(out, '"')
		out = append(out, s...)
		return append(out, '"')
	}
	b, _ := json.Marshal(s)
	return append(out, b...)
}
