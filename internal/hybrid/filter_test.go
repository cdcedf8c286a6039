package hybrid

import (
	"strings"
	"testing"

	"github.com/hybridgraph/hybridgraph/internal/schema"
)

func TestRenameExpr(t *testing.T) {
	tests := []struct {
		name, in, want string
		typ            *schema.StructType
	}{
		{"enum after path", "importance eq 'high'", "Importance eq 'High'", schema.Message},
		{"enum before path", "'high' eq importance", "'High' eq Importance", schema.Message},
		{"enum in list", "importance in ('low','high')", "Importance in ('Low','High')",
			schema.Message},
		{"nested path and bool", "isRead eq false and from/emailAddress/address eq 'a@b.test'",
			"IsRead eq false and From/EmailAddress/Address eq 'a@b.test'", schema.Message},
		{"date literal", "receivedDateTime ge 2017-04-01T08:00:00Z",
			"ReceivedDateTime ge 2017-04-01T08:00:00Z", schema.Message},
		{"string that looks like a name", "subject eq 'isRead and high'",
			"Subject eq 'isRead and high'", schema.Message},
		{"doubled quote", "subject eq 'let''s meet' or importance ne 'low'",
			"Subject eq 'let''s meet' or Importance ne 'Low'", schema.Message},
		{"enum spelt differently", "body/contentType eq 'html'", "Body/ContentType eq 'HTML'",
			schema.Message},
		{"nested enum", "flag/flagStatus eq 'notFlagged'", "Flag/FlagStatus eq 'NotFlagged'",
			schema.Message},
		{"not an enum member", "importance eq 'urgent'", "Importance eq 'urgent'",
			schema.Message},
		{"string property keeps literal", "subject eq 'high'", "Subject eq 'high'",
			schema.Message},
		{"functions", "contains(subject,'x') and startswith(from/emailAddress/name,'B')",
			"contains(Subject,'x') and startswith(From/EmailAddress/Name,'B')", schema.Message},
		{"lambda", "toRecipients/any(r:r/emailAddress/address eq 'x@y.test')",
			"ToRecipients/any(r:r/EmailAddress/Address eq 'x@y.test')", schema.Message},
		{"lambda on strings", "categories/any(c: c eq 'Red')",
			"Categories/any(c: c eq 'Red')", schema.Message},
		{"unknown names", "singleValueExtendedProperties/any(ep: ep/id eq 'x')",
			"SingleValueExtendedProperties/any(ep: ep/Id eq 'x')", schema.Message},
		{"not and parens", "not(isRead) and (importance eq 'high')",
			"not(IsRead) and (Importance eq 'High')", schema.Message},
		{"orderby", "receivedDateTime desc,subject", "ReceivedDateTime desc,Subject",
			schema.Message},
		{"expand options", "attachments($select=name,size)",
			"Attachments($select=Name,Size)", schema.Message},
		{"type cast", "microsoft.graph.eventMessage/meetingMessageType eq 'meetingRequest'",
			"Microsoft.OutlookServices.EventMessage/MeetingMessageType eq 'meetingRequest'",
			schema.Message},
		{"typed literal", "importance eq Microsoft.Exchange.Services.OData.Model.Importance'High'",
			"Importance eq Microsoft.Exchange.Services.OData.Model.Importance'High'",
			schema.Message},
		{"no type", "start/dateTime ge '2017-07-01T08:00'", "Start/DateTime ge '2017-07-01T08:00'",
			nil},
		{"folder", "displayName eq 'Inbox'", "DisplayName eq 'Inbox'", schema.MailFolder},
		{"unterminated literal", "subject eq 'abc", "Subject eq 'abc", schema.Message},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renameExpr(tt.in, tt.typ, schema.Graph, schema.REST)
			if got != tt.want {
				t.Errorf("to REST:\ngot  %s\nwant %s", got, tt.want)
			}
			back := renameExpr(got, tt.typ, schema.REST, schema.Graph)
			if again := renameExpr(back, tt.typ, schema.Graph, schema.REST); again != got {
				t.Errorf("round trip not stable:\nback  %s\nagain %s", back, again)
			}
		})
	}
	if got, want := renameExpr("Importance eq 'High' and IsRead eq true", schema.Message,
		schema.REST, schema.Graph), "importance eq 'high' and isRead eq true"; got != want {
		t.Errorf("to Graph: got %s, want %s", got, want)
	}
}

// FuzzRenameExpr checks that the renamer never panics, never breaks or
// merges string literals, and is stable: a second round trip through both
// dialects gives what the first gave.
func FuzzRenameExpr(f *testing.F) {
	for _, s := range []string{
		"importance eq 'high'", "'low' ne importance", "importance in ('low','high')",
		"toRecipients/any(r:r/emailAddress/address eq 'x')", "contains(subject,'a''b')",
		"attachments($select=name)", "microsoft.graph.eventMessage/x eq 1", "not(isRead)",
		"receivedDateTime ge 2017-04-01 and flag/flagStatus eq 'flagged'", "a/any(", "'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rest := renameExpr(in, schema.Message, schema.Graph, schema.REST)
		if got, want := strings.Count(rest, "'"), strings.Count(in, "'"); got != want {
			t.Fatalf("%q → %q: %d quotes, want %d", in, rest, got, want)
		}
		graph := renameExpr(rest, schema.Message, schema.REST, schema.Graph)
		again := renameExpr(graph, schema.Message, schema.Graph, schema.REST)
		if again != rest {
			t.Fatalf("unstable: %q → %q → %q → %q", in, rest, graph, again)
		}
	})
}
