package mime

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// decode parses raw and returns its document as a message.
func decode(t *testing.T, raw string) (message, *Parsed) {
	t.Helper()
	p, err := Parse([]byte(raw))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var m message
	if err := json.Unmarshal(p.Doc, &m); err != nil {
		t.Fatalf("document is not JSON: %v\n%s", err, p.Doc)
	}
	return m, p
}

func addr(name, address string) recipient {
	return recipient{emailAddress{Name: name, Address: address}}
}

func TestParseHeaders(t *testing.T) {
	raw := "Received: from a by b; Tue, 02 Jan 2024 10:00:05 +0000\r\n" +
		"Received: from c by a; Tue, 02 Jan 2024 09:59:00 +0000\r\n" +
		"From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>\r\n" +
		"Sender: list@example.org\r\n" +
		"To: a@example.com, \"B, Bee\" <b@example.com>\r\n" +
		"Cc: undisclosed-recipients:;\r\n" +
		"Bcc: hidden@example.com\r\n" +
		"Reply-To: replies@example.com\r\n" +
		"Subject: =?UTF-8?B?w6l0w6k=?= report\r\n" +
		"Date: Tue, 2 Jan 2024 11:00:00 +0200 (EET)\r\n" +
		"Message-ID: <abc@example.com>\r\n" +
		"X-Priority: 1 (Highest)\r\n" +
		"\r\n" +
		"Hello.\r\n"
	m, p := decode(t, raw)

	want := message{
		Subject:     "été report",
		Body:        itemBody{ContentType: "text", Content: "Hello.\r\n"},
		BodyPreview: "Hello.",
		From:        &recipient{emailAddress{"André Pirard", "PIRARD@vm1.ulg.ac.be"}},
		Sender:      &recipient{emailAddress{"list@example.org", "list@example.org"}},
		ToRecipients: []recipient{
			addr("a@example.com", "a@example.com"), addr("B, Bee", "b@example.com")},
		CcRecipients:      []recipient{},
		BccRecipients:     []recipient{addr("hidden@example.com", "hidden@example.com")},
		ReplyTo:           []recipient{addr("replies@example.com", "replies@example.com")},
		SentDateTime:      "2024-01-02T09:00:00Z",
		ReceivedDateTime:  "2024-01-02T10:00:05Z",
		InternetMessageID: "<abc@example.com>",
		Importance:        "high",
	}
	m.InternetMessageHeaders = nil
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
	if got, want := p.Date, time.Date(2024, 1, 2, 10, 0, 5, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Date: got %v, want %v", got, want)
	}
}

func TestParseDocumentShape(t *testing.T) {
	_, p := decode(t, "Subject: x\n\nbody\n")
	var doc map[string]any
	if err := json.Unmarshal(p.Doc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"id", "parentFolderId", "changeKey", "createdDateTime",
		"lastModifiedDateTime", "receivedDateTime", "sentDateTime", "from"} {
		if _, ok := doc[name]; ok {
			t.Errorf("document has %q, want it absent", name)
		}
	}
	if got := doc["isRead"]; got != false {
		t.Errorf("isRead: got %v, want false", got)
	}
	if got := doc["toRecipients"]; got == nil {
		t.Errorf("toRecipients: got null, want []")
	}
	if !p.Date.IsZero() {
		t.Errorf("Date: got %v, want zero for a message without dates", p.Date)
	}
}

func TestParseImportance(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "normal"},
		{"Importance: High", "high"},
		{"Importance: low", "low"},
		{"X-Priority: 5 (Lowest)", "low"},
		{"X-Priority: 3", "normal"},
		{"X-Priority: 2", "high"},
		{"X-MSMail-Priority: High", "high"},
		{"Importance: normal\nX-Priority: 1", "normal"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			m, _ := decode(t, "Subject: s\n"+tt.header+"\n\nbody")
			if m.Importance != tt.want {
				t.Errorf("got %q, want %q", m.Importance, tt.want)
			}
		})
	}
}

func TestParseBody(t *testing.T) {
	alt := "Content-Type: multipart/alternative; boundary=b\n\n" +
		"--b\nContent-Type: text/plain\n\nplain\n" +
		"--b\nContent-Type: text/html; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: quoted-printable\n\n" +
		"<p>caf=E9 &amp; <b>bar</b></p>\n--b--\n"
	tests := []struct {
		name, raw       string
		wantType        string
		wantContent     string
		wantPreview     string
		wantAttachments bool
	}{
		{"plain default", "Subject: s\n\nhi  there\n", "text", "hi  there\n", "hi there", false},
		{"alternative prefers html", alt, "html", "<p>café &amp; <b>bar</b></p>", "café & bar", false},
		{"latin1 text", "Content-Type: text/plain; charset=ISO-8859-1\n" +
			"Content-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe", "text", "Grüße", "Grüße", false},
		{"unknown charset keeps bytes", "Content-Type: text/plain; charset=x-martian\n\nabc",
			"text", "abc", "abc", false},
		{"undeclared 8-bit is cp1252", "Content-Type: text/plain\n\ncaf\xe9",
			"text", "café", "café", false},
		{"bad base64 keeps the readable part", "Content-Type: text/plain\n" +
			"Content-Transfer-Encoding: base64\n\naGVsbG8g!!d29y\nbGQ=garbage", "text", "hello world",
			"hello world", false},
		{"missing close delimiter", "Content-Type: multipart/mixed; boundary=z\n\n--z\n\nfirst\n--z\n" +
			"Content-Type: application/pdf\n\n%PDF", "text", "first", "first", true},
		{"multipart without boundary is text", "Content-Type: multipart/mixed\n\ntext", "text",
			"text", "text", false},
		{"inline related image is no attachment", "Content-Type: multipart/related; boundary=r\n\n" +
			"--r\nContent-Type: text/html\n\n<img src=cid:i>\n--r\nContent-Type: image/png\n" +
			"Content-ID: <i>\n\nPNG\n--r--", "html", "<img src=cid:i>", "", false},
		{"attached text is no body", "Content-Type: multipart/mixed; boundary=m\n\n" +
			"--m\nContent-Type: text/plain; name=a.txt\nContent-Disposition: attachment\n\nfile\n" +
			"--m\nContent-Type: text/plain\n\nreal body\n--m--", "text", "real body", "real body", true},
		{"signature is no attachment", "Content-Type: multipart/signed; boundary=s\n\n" +
			"--s\nContent-Type: text/plain\n\nsigned\n--s\nContent-Type: application/pgp-signature\n\n" +
			"sig\n--s--", "text", "signed", "signed", false},
		{"forwarded message is an attachment", "Content-Type: multipart/mixed; boundary=f\n\n" +
			"--f\n\nsee below\n--f\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--f--",
			"text", "see below", "see below", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := decode(t, tt.raw)
			if m.Body.ContentType != tt.wantType || m.Body.Content != tt.wantContent {
				t.Errorf("body: got %s %q, want %s %q", m.Body.ContentType, m.Body.Content,
					tt.wantType, tt.wantContent)
			}
			if m.BodyPreview != tt.wantPreview {
				t.Errorf("bodyPreview: got %q, want %q", m.BodyPreview, tt.wantPreview)
			}
			if m.HasAttachments != tt.wantAttachments {
				t.Errorf("hasAttachments: got %v, want %v", m.HasAttachments, tt.wantAttachments)
			}
		})
	}
}

func TestParsePreviewLength(t *testing.T) {
	body := strings.Repeat("é ", 300)
	m, _ := decode(t, "Content-Type: text/plain; charset=utf-8\n\n"+body)
	if got := len([]rune(m.BodyPreview)); got != PreviewLength {
		t.Errorf("preview length: got %d characters, want %d", got, PreviewLength)
	}
}

func TestParseAddressesLenient(t *testing.T) {
	tests := []struct {
		in   string
		want []recipient
	}{
		{"a@x.org", []recipient{addr("a@x.org", "a@x.org")}},
		{"Bob <bob@x> Bobby <bobby@x>", []recipient{addr("Bob", "bob@x"), addr("Bobby", "bobby@x")}},
		{"good@x.org, <<broken, \"Q\" <q@x.org>", []recipient{addr("good@x.org", "good@x.org"),
			addr("Q", "q@x.org")}},
		{"team: a@x.org, b@x.org;", []recipient{addr("a@x.org", "a@x.org"), addr("b@x.org", "b@x.org")}},
		{"undisclosed recipients: ;", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := parseAddresses(tt.in)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Tue, 2 Jan 2024 11:00:00 +0200", "2024-01-02T09:00:00Z"},
		{"Wed, 28 May 2014 17:18:19 +0900 (JST)", "2014-05-28T08:18:19Z"},
		{"Wed, 11 Feb 98 11:51 CST", "1998-02-11T11:51:00Z"},
		{"Tue, 17 Jul 2012 22:23:35.882 0000", "2012-07-17T22:23:35Z"},
		{"May 8, 2005 1:17 PM", "2005-05-08T13:17:00Z"},
		{"Whenever", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := ""
			if d := parseDate(tt.in); !d.IsZero() {
				got = d.Format(time.RFC3339)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseHeaderCaps(t *testing.T) {
	var b strings.Builder
	for range MaxHeaders + 50 {
		b.WriteString("X-Filler: " + strings.Repeat("v", 100) + "\n")
	}
	m, _ := decode(t, b.String()+"\nbody")
	if got := len(m.InternetMessageHeaders); got != MaxHeaders {
		t.Errorf("headers kept: got %d, want %d", got, MaxHeaders)
	}

	b.Reset()
	for range 10 {
		b.WriteString("X-Big: " + strings.Repeat("v", 20000) + "\n")
	}
	m, _ = decode(t, b.String()+"\nbody")
	size := 0
	for _, f := range m.InternetMessageHeaders {
		size += len(f.Name) + len(f.Value)
	}
	if size > MaxHeaderBytes || len(m.InternetMessageHeaders) != 3 {
		t.Errorf("headers kept: got %d fields in %d bytes, want 3 within %d",
			len(m.InternetMessageHeaders), size, MaxHeaderBytes)
	}
}

func TestParseFolding(t *testing.T) {
	raw := "Subject: one\r\n two\r\nContent-Type: text/plain;\r\ncharset=iso-8859-1\r\n\r\n\xe9"
	m, _ := decode(t, raw)
	if m.Subject != "one two" {
		t.Errorf("subject: got %q, want %q", m.Subject, "one two")
	}
	if m.Body.Content != "é" {
		t.Errorf("body across a broken fold: got %q, want %q", m.Body.Content, "é")
	}
	want := []field{{"Subject", "one two"}, {"Content-Type", "text/plain; charset=iso-8859-1"}}
	if diff := cmp.Diff(want, m.InternetMessageHeaders); diff != "" {
		t.Errorf("internetMessageHeaders (-want +got):\n%s", diff)
	}
}

func TestParseMalformed(t *testing.T) {
	for _, raw := range []string{"", "\r\n\r\nbody only", "just some text\nmore", " leading: space",
		"\x89PNG\r\n\x1a\n", "{\"json\": true}"} {
		t.Run(raw, func(t *testing.T) {
			_, err := Parse([]byte(raw))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseMboxEnvelope(t *testing.T) {
	m, _ := decode(t, "From someone@example.com Mon Jan  1 00:00:00 2024\nSubject: s\n\nb")
	if m.Subject != "s" {
		t.Errorf("subject: got %q, want %q", m.Subject, "s")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: s\n\nbody"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\n\nx\n--a\n" +
		"Content-Type: multipart/alternative; boundary=a\n\n--a--"))
	f.Add([]byte("To: a@b, <c\nContent-Transfer-Encoding: base64\n\n===="))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		var m message
		if err := json.Unmarshal(p.Doc, &m); err != nil {
			t.Fatalf("document is not JSON: %v", err)
		}
		if n := len([]rune(m.BodyPreview)); n > PreviewLength {
			t.Fatalf("bodyPreview has %d characters", n)
		}
	})
}
