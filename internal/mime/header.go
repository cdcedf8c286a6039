package mime

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ErrMalformed means the input is not an Internet message: it has no
// header block at all.
var ErrMalformed = errors.New("malformed message")

// field is one header field, unfolded, with its value as it was written
// (encoded-words not decoded yet).
type field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// header is a header block in order of appearance.
type header []field

// get returns the value of the first field named name (case-insensitive),
// or "".
func (h header) get(name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// has tells whether a field named name is present.
func (h header) has(name string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// readHeader splits raw into its header block and body (RFC 5322 section
// 2.1: the header ends at the first empty line). It is lenient where real
// mail is broken: a line that is neither a field nor a folded continuation
// (RFC 5322 section 2.2.3) is taken as a continuation whose folding
// whitespace was lost, and an mbox "From " envelope line in front is
// skipped. A block whose first line is not a field is not a message.
func readHeader(raw []byte) (header, []byte, error) {
	rest := raw
	if bytes.HasPrefix(rest, []byte("From ")) {
		_, rest = cutLine(rest)
	}
	var h header
	for len(rest) > 0 {
		line, next := cutLine(rest)
		if len(line) == 0 {
			if len(h) == 0 {
				return nil, nil, ErrMalformed
			}
			return h, next, nil
		}
		rest = next
		if line[0] == ' ' || line[0] == '\t' || !isFieldLine(line, len(h) == 0) {
			if len(h) == 0 {
				return nil, nil, ErrMalformed
			}
			h[len(h)-1].Value = appendFold(h[len(h)-1].Value, line)
			continue
		}
		i := bytes.IndexByte(line, ':')
		name := strings.TrimRight(string(line[:i]), " \t")
		h = append(h, field{Name: name, Value: string(line[i+1:])})
	}
	if len(h) == 0 {
		return nil, nil, ErrMalformed
	}
	return h, nil, nil
}

// finish trims the values and makes them valid UTF-8: raw 8-bit octets
// are allowed by RFC 6532 when they are UTF-8, and are read as
// Windows-1252 when they are not.
func (h header) finish() {
	for i := range h {
		h[i].Value = validUTF8(strings.TrimSpace(h[i].Value))
	}
}

// appendFold adds a continuation line to a field value. Folding whitespace
// is kept (RFC 5322 section 2.2.3 unfolds by removing only the CRLF); a
// line that lost its whitespace is joined with a space.
func appendFold(v string, line []byte) string {
	if line[0] == ' ' || line[0] == '\t' {
		return v + string(line)
	}
	return v + " " + string(line)
}

// isFieldLine tells whether line starts with a field name and a colon.
// RFC 5322 section 3.6.8 allows any printable ASCII but the colon in a
// name; the first line of a message must use the token characters real
// header names use, so that text that merely contains a colon is not taken
// for a message.
func isFieldLine(line []byte, first bool) bool {
	i := bytes.IndexByte(line, ':')
	name := bytes.TrimRight(line[:max(i, 0)], " \t")
	if i <= 0 || len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
		if first && !isTokenByte(c) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.'
}

// cutLine returns the first line of b without its CR LF or LF, and the rest.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
	return bytes.TrimSuffix(b[:i], []byte("\r")), b[i+1:]
}

// validUTF8 returns s unchanged when it is UTF-8 and otherwise reads it as
// Windows-1252, whose decoder maps every octet to a character.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}
