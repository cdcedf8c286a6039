package mime

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// dateLayouts are forms of the date seen in real mail that net/mail, which
// follows RFC 5322 section 3.3 and its obsolete syntax, rejects.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05.999 -0700",
	"Mon, 2 Jan 2006 15:04:05.999 0000",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 06 15:04 MST",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Jan 2, 2006 3:04 PM",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04:05Z07:00",
	"2 Jan 2006 15:04:05",
}

var (
	dateComment = regexp.MustCompile(`\([^)]*\)`)
	dateSpace   = regexp.MustCompile(`\s+`)
)

// parseDate reads a Date or Received date leniently. It returns the zero
// time when nothing can be read.
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t.UTC()
	}
	v = strings.TrimSpace(dateSpace.ReplaceAllString(dateComment.ReplaceAllString(v, ""), " "))
	if t, err := mail.ParseDate(v); err == nil {
		return t.UTC()
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// receivedDate returns the date of a Received field, which follows its
// last semicolon (RFC 5322 section 3.6.7).
func receivedDate(v string) time.Time {
	i := strings.LastIndexByte(v, ';')
	if i < 0 {
		return time.Time{}
	}
	return parseDate(v[i+1:])
}
