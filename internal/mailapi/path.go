package mailapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// Segment is one segment of an OData resource path: a name with an optional
// key, as in "messages", "messages('AAMk')" or "messages/AAMk" (the second
// form puts the key in its own segment, which the resolver pairs up).
type Segment struct {
	Name   string // as sent
	Key    string // unescaped key inside parentheses, if any
	HasKey bool
}

// Is reports whether the segment's name is name, ignoring case: Graph and
// Outlook REST match segment names case-insensitively (graph-api.md §1).
func (s Segment) Is(name string) bool { return strings.EqualFold(s.Name, name) }

// MaxSegments bounds the depth of a resource path.
const MaxSegments = 16

// SplitPath splits an escaped URL path (r.URL.EscapedPath()) into
// segments. Each segment is split on "/" before unescaping, so that "%2F"
// inside an id stays part of the id (Graph ids are base64 and may hold "/").
func SplitPath(escaped string) ([]Segment, error) {
	raw := strings.Split(strings.Trim(escaped, "/"), "/")
	if len(raw) > MaxSegments {
		return nil, httpserver.Errorf(http.StatusBadRequest, "BadRequest",
			"The resource path has more than %d segments.", MaxSegments)
	}
	segs := make([]Segment, 0, len(raw))
	for _, r := range raw {
		if r == "" {
			continue
		}
		s, err := parseSegment(r)
		if err != nil {
			return nil, err
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// parseSegment reads name, name('key') or name(key). A key in quotes has
// its doubled quotes undone (OData ABNF, keyPredicate).
func parseSegment(raw string) (Segment, error) {
	bad := func() (Segment, error) {
		return Segment{}, httpserver.Errorf(http.StatusBadRequest, "BadRequest",
			"The resource path segment is malformed.")
	}
	open := strings.IndexByte(raw, '(')
	if open < 0 {
		name, err := url.PathUnescape(raw)
		if err != nil || name == "." || name == ".." {
			return bad()
		}
		return Segment{Name: name}, nil
	}
	if !strings.HasSuffix(raw, ")") {
		return bad()
	}
	name, err := url.PathUnescape(raw[:open])
	if err != nil {
		return bad()
	}
	key, err := url.PathUnescape(raw[open+1 : len(raw)-1])
	if err != nil {
		return bad()
	}
	if strings.HasPrefix(key, "'") {
		if len(key) < 2 || !strings.HasSuffix(key, "'") {
			return bad()
		}
		key = strings.ReplaceAll(key[1:len(key)-1], "''", "'")
	}
	return Segment{Name: name, Key: key, HasKey: true}, nil
}

// UserKey reads the user segment that starts a mailbox path on both faces:
// "me", "users('{key}')" or "users/{key}". It returns the key (empty for
// me), whether the path said me, and the segments after the user.
func UserKey(segs []Segment) (key string, me bool, rest []Segment, ok bool) {
	if len(segs) == 0 {
		return "", false, nil, false
	}
	first, rest := segs[0], segs[1:]
	switch {
	case first.Is("me") && !first.HasKey:
		return "", true, rest, true
	case first.Is("users") && first.HasKey:
		return first.Key, false, rest, true
	case first.Is("users") && len(rest) > 0 && !rest[0].HasKey:
		return rest[0].Name, false, rest[1:], true
	}
	return "", false, nil, false
}

// The first path segments of each resource family served for a user.
var (
	MailSegments     = []string{"messages", "mailFolders", "sendMail", "microsoft.graph.sendMail"}
	CalendarSegments = []string{"events", "calendar", "calendars", "calendarView", "calendarGroups"}
	ContactSegments  = []string{"contacts", "contactFolders"}
)

// InFamily reports whether name is one of family, ignoring case.
func InFamily(name string, family []string) bool {
	for _, f := range family {
		if strings.EqualFold(name, f) {
			return true
		}
	}
	return false
}

// LogName is how a segment name appears in a route for the logs: resource
// and action names as they are, anything that may be an id or an address
// (digits, '@', '=', long names) as {key}.
func LogName(name string) string {
	if len(name) > 40 {
		return "{key}"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '$') {
			return "{key}"
		}
	}
	return name
}
