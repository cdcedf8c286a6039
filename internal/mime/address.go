package mime

import (
	"net/mail"
	"regexp"
	"strings"
)

// Recipient is Graph's recipient complex type.
type recipient struct {
	EmailAddress emailAddress `json:"emailAddress"`
}

// emailAddress is Graph's emailAddress complex type.
type emailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

var addressParser = mail.AddressParser{WordDecoder: wordDecoder}

// bareAddress finds addr-specs in text the RFC 5322 grammar rejects.
var bareAddress = regexp.MustCompile(`[^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+`)

// angleAddress finds "display name <addr-spec>" pairs in such text.
var angleAddress = regexp.MustCompile(`([^<>,;]*)<([^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+)>`)

// parseAddresses reads an address list field (RFC 5322 section 3.4). When
// the whole list does not parse, each comma-separated piece is tried on its
// own, and a piece that still fails gives whatever addr-specs it contains,
// so a list with one bad entry (or two mailboxes missing their comma) keeps
// the readable addresses. Groups contribute their members; an empty group
// such as "undisclosed-recipients:;" contributes none.
func parseAddresses(v string) []recipient {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if list, err := addressParser.ParseList(v); err == nil {
		return toRecipients(list)
	}
	var out []recipient
	for _, piece := range splitList(v) {
		if a, err := addressParser.Parse(piece); err == nil {
			out = append(out, toRecipients([]*mail.Address{a})...)
			continue
		}
		out = append(out, salvage(piece)...)
	}
	return out
}

// salvage finds the addresses in text the grammar rejects: each
// "name <addr>" pair, else each bare addr-spec.
func salvage(piece string) []recipient {
	var out []recipient
	for _, m := range angleAddress.FindAllStringSubmatch(piece, -1) {
		name := strings.Trim(strings.TrimSpace(decodeWords(m[1])), `"`)
		if name == "" {
			name = m[2]
		}
		out = append(out, recipient{emailAddress{Name: name, Address: m[2]}})
	}
	if len(out) > 0 {
		return out
	}
	for _, addr := range bareAddress.FindAllString(piece, -1) {
		out = append(out, recipient{emailAddress{Name: addr, Address: addr}})
	}
	return out
}

// toRecipients converts parsed addresses. Exchange fills the name with the
// address when the header gives no display name, and so do we.
func toRecipients(list []*mail.Address) []recipient {
	out := make([]recipient, 0, len(list))
	for _, a := range list {
		name := validUTF8(strings.TrimSpace(a.Name))
		if name == "" {
			name = a.Address
		}
		out = append(out, recipient{emailAddress{Name: name, Address: a.Address}})
	}
	return out
}

// splitList splits an address list at commas outside quotes, comments and
// angle brackets.
func splitList(v string) []string {
	var pieces []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(' || c == '<':
			depth++
		case (c == ')' || c == '>') && depth > 0:
			depth--
		case c == ',' && depth == 0:
			pieces = append(pieces, v[start:i])
			start = i + 1
		}
	}
	return append(pieces, v[start:])
}
