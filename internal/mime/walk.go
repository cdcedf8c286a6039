package mime

import (
	"strings"
)

// content is what the walk over the MIME tree finds.
type content struct {
	html, text  *string // first inline text/html and text/plain bodies
	attachments int     // parts Outlook lists as attachments
	parts       int     // parts visited, against maxParts
}

// node is one entity of the tree with where it sits.
type node struct {
	h      header
	body   []byte
	depth  int
	parent string // media type of the enclosing multipart, "" at the root
}

// walk visits an entity and, for multiparts, its children, depth first.
func (c *content) walk(n node) {
	c.parts++
	if c.parts > maxParts {
		return
	}
	t, params := contentType(n.h, n.parent == "multipart/digest")
	if strings.HasPrefix(t, "multipart/") {
		// RFC 2046 section 5.1.1: a boundary cannot end in a space, so
		// trailing spaces are the writer's padding and not part of it.
		if b := strings.TrimRight(params["boundary"], " \t"); b != "" && n.depth < maxDepth {
			c.walkChildren(n, t, b)
			return
		}
		// Without a boundary the parts cannot be found; RFC 2046 section
		// 5.1.1 requires one, and readers show such a body as text.
		t, params = "text/plain", map[string]string{}
	}
	c.leaf(n, t, params)
}

func (c *content) walkChildren(n node, t, boundary string) {
	for _, raw := range splitMultipart(n.body, boundary, maxParts) {
		h, body := partHeader(raw)
		c.walk(node{h: h, body: body, depth: n.depth + 1, parent: t})
	}
}

// partHeader splits a body part. A part may have an empty header (RFC
// 2046 section 5.1.1: it is then text/plain in US-ASCII); a part whose
// header cannot be read is taken as all body.
func partHeader(raw []byte) (header, []byte) {
	if line, rest := cutLine(raw); len(line) == 0 {
		return nil, rest
	}
	h, body, err := readHeader(raw)
	if err != nil {
		return nil, raw
	}
	h.finish()
	return h, body
}

// leaf classifies a single-part entity as a body, an inline part or an
// attachment.
func (c *content) leaf(n node, t string, params map[string]string) {
	disp, dparams := mediaType(n.h.get("Content-Disposition"))
	named := dparams["filename"] != "" || dparams["filename*"] != "" || params["name"] != ""
	isBodyType := t == "text/plain" || t == "text/html"
	switch {
	case isBodyType && disp != "attachment" && (!named || disp == "inline"):
		c.body(n, t, params)
	case isSignature(t) && n.parent == "multipart/signed":
		// The signature of RFC 1847 multipart/signed is not content.
	case n.parent == "multipart/alternative" && strings.HasPrefix(t, "text/"):
		// Another form of the same text (text/enriched, text/calendar).
	case disp != "attachment" && (n.parent == "multipart/related" ||
		disp == "inline" && n.h.has("Content-Id")):
		// Inline content referenced from the HTML body: Graph does not
		// count it in hasAttachments.
	default:
		c.attachments++
	}
}

// body keeps the first text/html and text/plain bodies.
func (c *content) body(n node, t string, params map[string]string) {
	if (t == "text/html" && c.html != nil) || (t == "text/plain" && c.text != nil) {
		return
	}
	s := decodeText(decodeTransfer(n.body, n.h.get("Content-Transfer-Encoding")),
		params["charset"])
	if t == "text/html" {
		c.html = &s
	} else {
		c.text = &s
	}
}

func isSignature(t string) bool {
	switch t {
	case "application/pgp-signature", "application/pkcs7-signature",
		"application/x-pkcs7-signature":
		return true
	}
	return false
}
