package mime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// outgoing is the part of a Graph message document that Build reads.
type outgoing struct {
	Subject           string      `json:"subject"`
	Body              itemBody    `json:"body"`
	From              *recipient  `json:"from"`
	Sender            *recipient  `json:"sender"`
	ToRecipients      []recipient `json:"toRecipients"`
	CcRecipients      []recipient `json:"ccRecipients"`
	ReplyTo           []recipient `json:"replyTo"`
	SentDateTime      string      `json:"sentDateTime"`
	InternetMessageID string      `json:"internetMessageId"`
	Importance        string      `json:"importance"`
}

// Build writes a Graph message document as an RFC 5322 message with one
// UTF-8 quoted-printable text part (RFC 2045 section 6.7), text/html when
// body.contentType is html and text/plain otherwise. Recipients in
// bccRecipients are not written: the caller gives them to the transport.
// A document without sentDateTime is dated now, and one without
// internetMessageId gets a new Message-ID, since RFC 5322 section 3.6
// requires the first and recommends the second.
func Build(doc []byte) ([]byte, error) {
	var m outgoing
	if err := json.Unmarshal(doc, &m); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	h, err := buildHeader(&m)
	if err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}

	var buf bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	if _, err := w.Write([]byte(m.Body.Content)); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	return buf.Bytes(), nil
}

// buildHeader sets the header fields. The writer emits fields last-added
// first, so they are added in the reverse of the order RFC 5322 section
// 3.6 lists them in.
func buildHeader(m *outgoing) (gomail.Header, error) {
	var h gomail.Header
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	ct := "text/plain"
	if strings.EqualFold(m.Body.ContentType, "html") {
		ct = "text/html"
	}
	h.SetContentType(ct, map[string]string{"charset": "utf-8"})
	h.Set("MIME-Version", "1.0")
	if imp := strings.ToLower(m.Importance); imp == "high" || imp == "low" {
		h.Set("Importance", imp) // RFC 2156 section 5.3; normal is the default
	}
	h.SetSubject(m.Subject)
	h.SetAddressList("Cc", addresses(m.CcRecipients))
	h.SetAddressList("To", addresses(m.ToRecipients))
	h.SetAddressList("Reply-To", addresses(m.ReplyTo))
	from := addresses(one(m.From))
	if sender := addresses(one(m.Sender)); len(sender) > 0 && !sameAddress(sender, from) {
		h.SetAddressList("Sender", sender)
	}
	h.SetAddressList("From", from)

	id := strings.Trim(strings.TrimSpace(m.InternetMessageID), "<>")
	if id != "" && !strings.ContainsAny(id, "\r\n<> ") {
		h.SetMessageID(id)
	} else if err := h.GenerateMessageID(); err != nil {
		return h, err
	}
	date := time.Now()
	if m.SentDateTime != "" {
		t, err := schema.ParseTime(m.SentDateTime)
		if err != nil {
			return h, err
		}
		date = t
	}
	h.SetDate(date)
	return h, nil
}

func one(r *recipient) []recipient {
	if r == nil {
		return nil
	}
	return []recipient{*r}
}

// addresses converts recipients, leaving out those without an address and
// the display name Exchange copies from the address.
func addresses(rs []recipient) []*mail.Address {
	var out []*mail.Address
	for _, r := range rs {
		if strings.TrimSpace(r.EmailAddress.Address) == "" {
			continue
		}
		a := &mail.Address{Name: r.EmailAddress.Name, Address: r.EmailAddress.Address}
		if strings.EqualFold(a.Name, a.Address) {
			a.Name = ""
		}
		out = append(out, a)
	}
	return out
}

func sameAddress(a, b []*mail.Address) bool {
	return len(a) == 1 && len(b) == 1 && strings.EqualFold(a[0].Address, b[0].Address)
}
