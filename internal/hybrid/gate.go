package hybrid

import (
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
)

// PreviewSentence is what Graph appended to every answer about an
// on-premises mailbox that it did not serve itself: the announcement's
// wording (reference exchange-hybrid.md §5).
const PreviewSentence = "REST APIs for this mailbox are currently in preview. " +
	"You can find more information about the preview REST APIs at https://dev.outlook.com."

// UnsupportedMessage is the message of the gate's refusal.
const UnsupportedMessage = "The OData request is not supported. " + PreviewSentence

// families are the first path segments (after users/{id} or me) of the
// Mail, Calendar and Contacts API sets, the only ones the preview proxied
// (reference §1.5).
var families = map[string]bool{
	"messages":       true,
	"mailfolders":    true,
	"sendmail":       true,
	"events":         true,
	"calendar":       true,
	"calendars":      true,
	"calendarview":   true,
	"calendargroups": true,
	"contacts":       true,
	"contactfolders": true,
}

// Allowed reports whether a Graph request may be proxied to an on-premises
// mailbox: version v1.0 and a first segment of the Mail, Calendar or
// Contacts families, matched without regard to case. rest are the path
// segments after users/{id} or me. Calendar and contact paths pass even
// though an Exchange 2016 server may answer 404 for some of them: that
// answer, with the preview sentence, is the honest one.
func Allowed(version string, rest []string) bool {
	if version != "v1.0" || len(rest) == 0 {
		return false
	}
	name, _, _ := splitKey(rest[0])
	return families[strings.ToLower(name)]
}

// UnsupportedError is the gate's refusal: 400 ErrorInvalidRequest with
// UnsupportedMessage, as Graph answered for a request outside the preview
// (reference §5, microsoft/MHA#43). The front door uses it too, for
// on-premises users on paths that are not per-user.
func UnsupportedError() *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, "ErrorInvalidRequest", "%s", UnsupportedMessage)
}
