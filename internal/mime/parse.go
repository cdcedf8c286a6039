package mime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// Limits on internetMessageHeaders. Graph returns the header of a message
// as a list; a message with a pathological header block (thousands of
// Received fields, megabytes of folded text) must not bloat the document.
// The caps are far above what delivered mail carries: a typical Exchange
// Online message has 40-60 fields in 10-20 KB.
const (
	MaxHeaders     = 100       // fields kept in internetMessageHeaders
	MaxHeaderBytes = 64 * 1024 // bytes of names and values kept
)

// PreviewLength is the length of bodyPreview in characters: "the first
// 255 characters of the message body" (Graph message resource).
const PreviewLength = 255

// Parsed is a message read by Parse.
type Parsed struct {
	// Doc is the Graph-canonical message document, without the properties
	// the store assigns (id, parentFolderId, changeKey, createdDateTime,
	// lastModifiedDateTime).
	Doc []byte
	// Date is the best time of receipt: the first Received field's date,
	// else the Date field, else the zero time.
	Date time.Time
}

// message is the part of Graph's message resource that Parse fills.
type message struct {
	Subject                string      `json:"subject"`
	Body                   itemBody    `json:"body"`
	BodyPreview            string      `json:"bodyPreview"`
	From                   *recipient  `json:"from,omitempty"`
	Sender                 *recipient  `json:"sender,omitempty"`
	ToRecipients           []recipient `json:"toRecipients"`
	CcRecipients           []recipient `json:"ccRecipients"`
	BccRecipients          []recipient `json:"bccRecipients"`
	ReplyTo                []recipient `json:"replyTo"`
	SentDateTime           string      `json:"sentDateTime,omitempty"`
	ReceivedDateTime       string      `json:"receivedDateTime,omitempty"`
	InternetMessageID      string      `json:"internetMessageId,omitempty"`
	InternetMessageHeaders []field     `json:"internetMessageHeaders"`
	Importance             string      `json:"importance"`
	HasAttachments         bool        `json:"hasAttachments"`
	IsRead                 bool        `json:"isRead"`
}

// itemBody is Graph's itemBody complex type.
type itemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

// Parse reads an Internet message into a Graph message document. It fails,
// with an error wrapping ErrMalformed, only when raw has no header block.
func Parse(raw []byte) (*Parsed, error) {
	h, body, err := readHeader(raw)
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	h.finish()

	var c content
	c.walk(node{h: h, body: body})

	m := message{
		Subject:                decodeWords(h.get("Subject")),
		Body:                   chooseBody(&c),
		ToRecipients:           nonNil(parseAddresses(h.get("To"))),
		CcRecipients:           nonNil(parseAddresses(h.get("Cc"))),
		BccRecipients:          nonNil(parseAddresses(h.get("Bcc"))),
		ReplyTo:                nonNil(parseAddresses(h.get("Reply-To"))),
		InternetMessageID:      messageID(h.get("Message-Id")),
		InternetMessageHeaders: capHeaders(h),
		Importance:             importance(h),
		HasAttachments:         c.attachments > 0,
	}
	m.BodyPreview = preview(m.Body)
	m.From = first(parseAddresses(h.get("From")))
	m.Sender = first(parseAddresses(h.get("Sender")))
	if m.Sender == nil {
		m.Sender = m.From
	}

	sent := parseDate(h.get("Date"))
	received := firstReceived(h)
	if !sent.IsZero() {
		m.SentDateTime = schema.FormatTime(sent)
	}
	if !received.IsZero() {
		m.ReceivedDateTime = schema.FormatTime(received)
	}
	date := received
	if date.IsZero() {
		date = sent
	}

	doc, err := marshal(m)
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	return &Parsed{Doc: doc, Date: date}, nil
}

// chooseBody prefers HTML, as Outlook shows it, and falls back to text.
func chooseBody(c *content) itemBody {
	switch {
	case c.html != nil:
		return itemBody{ContentType: "html", Content: *c.html}
	case c.text != nil:
		return itemBody{ContentType: "text", Content: *c.text}
	}
	return itemBody{ContentType: "text", Content: ""}
}

// preview is bodyPreview of an item body.
func preview(b itemBody) string { return Preview(b.ContentType, b.Content) }

// firstReceived is the date of the topmost Received field, added by the
// last hop, the one that delivered the message (RFC 5321 section 4.4).
func firstReceived(h header) time.Time {
	for _, f := range h {
		if strings.EqualFold(f.Name, "Received") {
			return receivedDate(f.Value)
		}
	}
	return time.Time{}
}

// messageID returns the Message-ID field as Graph shows
// internetMessageId: with its angle brackets (RFC 5322 section 3.6.4).
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i : i+j+1]
		}
	}
	return "<" + strings.Trim(strings.Fields(v)[0], "<>") + ">"
}

// importance reads the Importance field (RFC 2156 section 5.3), then the
// de-facto X-Priority (1-2 high, 4-5 low) and X-MSMail-Priority fields.
func importance(h header) string {
	switch strings.ToLower(strings.TrimSpace(h.get("Importance"))) {
	case "high":
		return "high"
	case "low":
		return "low"
	case "normal":
		return "normal"
	}
	if p := strings.Fields(h.get("X-Priority")); len(p) > 0 {
		if n, err := strconv.Atoi(p[0]); err == nil {
			switch {
			case n <= 2:
				return "high"
			case n >= 4:
				return "low"
			}
			return "normal"
		}
	}
	switch strings.ToLower(strings.TrimSpace(h.get("X-MSMail-Priority"))) {
	case "high":
		return "high"
	case "low":
		return "low"
	}
	return "normal"
}

// capHeaders keeps the header fields within MaxHeaders and MaxHeaderBytes,
// in order, dropping the rest.
func capHeaders(h header) []field {
	out := make([]field, 0, min(len(h), MaxHeaders))
	size := 0
	for _, f := range h {
		size += len(f.Name) + len(f.Value)
		if len(out) == MaxHeaders || size > MaxHeaderBytes {
			break
		}
		out = append(out, f)
	}
	return out
}

func first(r []recipient) *recipient {
	if len(r) == 0 {
		return nil
	}
	return &r[0]
}

func nonNil(r []recipient) []recipient {
	if r == nil {
		return []recipient{}
	}
	return r
}

// marshal writes the document without escaping <, > and & (HTML bodies
// stay readable; the output is JSON either way).
func marshal(m message) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
