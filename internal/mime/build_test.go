package mime

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestBuildRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   message
	}{
		{"html with non-ASCII", message{
			Subject:           "Réunion: budget 2024 — ünïcödé " + strings.Repeat("long ", 30),
			Body:              itemBody{ContentType: "html", Content: "<p>Grüße,\r\nAnna</p>"},
			From:              &recipient{emailAddress{"Anna Müller", "anna@contoso.com"}},
			Sender:            &recipient{emailAddress{"Anna Müller", "anna@contoso.com"}},
			ToRecipients:      []recipient{addr("Bob", "bob@fabrikam.com"), addr("c@x.org", "c@x.org")},
			CcRecipients:      []recipient{addr("Dee, D.", "dee@contoso.com")},
			ReplyTo:           []recipient{addr("Team", "team@contoso.com")},
			SentDateTime:      "2024-03-04T09:10:11Z",
			InternetMessageID: "<id-1@contoso.com>",
			Importance:        "high",
		}},
		{"plain, delegate sender", message{
			Subject:           "plain",
			Body:              itemBody{ContentType: "text", Content: "line one\r\nline two =\r\n"},
			From:              &recipient{emailAddress{"Boss", "boss@contoso.com"}},
			Sender:            &recipient{emailAddress{"Assistant", "pa@contoso.com"}},
			ToRecipients:      []recipient{addr("x@y.org", "x@y.org")},
			SentDateTime:      "2024-03-04T09:10:11Z",
			InternetMessageID: "<id-2@contoso.com>",
			Importance:        "low",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := Build(doc)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got, _ := decode(t, string(raw))
			want := tt.in
			want.BodyPreview = preview(want.Body)
			ignore := cmpopts.IgnoreFields(message{}, "InternetMessageHeaders", "BodyPreview")
			if diff := cmp.Diff(want, got, ignore, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Build then Parse (-want +got):\n%s\n%s", diff, raw)

			}
			for _, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 998 {
					t.Errorf("line of %d octets, over RFC 5322's 998", len(line))
				}
			}
		})
	}
}

func TestBuildHeader(t *testing.T) {
	doc := `{"subject":"hi","body":{"contentType":"Text","content":"x"},
		"toRecipients":[{"emailAddress":{"address":"to@x.org"}}],
		"bccRecipients":[{"emailAddress":{"address":"secret@x.org"}}]}`
	raw, err := Build([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{"Mime-Version: 1.0\r\n", "Message-Id: <", "Date: ",
		"Content-Type: text/plain; charset=utf-8\r\n",
		"Content-Transfer-Encoding: quoted-printable\r\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("message lacks %q:\n%s", want, s)
		}
	}
	for _, absent := range []string{"secret@x.org", "Bcc:", "Importance:"} {
		if strings.Contains(s, absent) {
			t.Errorf("message has %q:\n%s", absent, s)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	for _, doc := range []string{`not json`, `{"sentDateTime":"yesterday"}`} {
		if _, err := Build([]byte(doc)); err == nil {
			t.Errorf("Build(%s): got no error, want one", doc)
		}
	}
}
