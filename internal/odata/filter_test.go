package odata

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

func filterQuery(t *testing.T, f string, d schema.Dialect, lim Limits) (*Query, error) {
	t.Helper()
	return Parse(url.Values{"$filter": {f}}, schema.Message, d, lim)
}

func TestFilterSQL(t *testing.T) {
	tests := []struct {
		name   string
		d      schema.Dialect
		filter string
		where  string
		args   []any
	}{
		{"eq string", schema.Graph, "subject eq 'hello'", "subject = ?", []any{"hello"}},
		{"ne includes absent", schema.Graph, "subject ne 'x'",
			"(subject IS NULL OR subject <> ?)", []any{"x"}},
		{"not eq is ne", schema.Graph, "not(subject eq 'x')",
			"(subject IS NULL OR subject <> ?)", []any{"x"}},
		{"not ne is eq", schema.Graph, "not(subject ne 'x')", "subject = ?", []any{"x"}},
		{"doubled quote", schema.Graph, "subject eq 'O''Brien'", "subject = ?",
			[]any{"O'Brien"}},
		{"empty string", schema.Graph, "subject eq ''", "subject = ?", []any{""}},
		{"only quotes", schema.Graph, "subject eq ''''''", "subject = ?", []any{"''"}},
		{"one quote", schema.Graph, "subject eq ''''", "subject = ?", []any{"'"}},
		{"contains one quote", schema.Graph, "contains(subject,'''')",
			`subject LIKE ? ESCAPE '\'`, []any{"%'%"}},
		{"quotes around words", schema.Graph, "subject eq '''a'' and ''b'''", "subject = ?",
			[]any{"'a' and 'b'"}},
		{"literal that looks like a placeholder", schema.Graph, "subject eq 'hgLiteral1'",
			"subject = ?", []any{"hgLiteral1"}},
		{"case of names and operators", schema.Graph, "SUBJECT EQ 'x'", "subject = ?",
			[]any{"x"}},
		{"navigation path", schema.Graph, "from/emailAddress/address eq 'a@b.com'",
			"from_address = ?", []any{"a@b.com"}},
		{"date literal", schema.Graph, "receivedDateTime ge 2017-04-01",
			"received >= ?", []any{"2017-04-01T00:00:00Z"}},
		{"offset normalised to UTC", schema.Graph,
			"receivedDateTime lt 2024-05-01T10:20:30+02:00",
			"received < ?", []any{"2024-05-01T08:20:30Z"}},
		{"fraction lt", schema.Graph, "receivedDateTime lt 2024-05-01T10:20:30.123Z",
			"received <= ?", []any{"2024-05-01T10:20:30Z"}},
		{"fraction ge", schema.Graph, "sentDateTime ge 2024-05-01T10:20:30.5Z",
			"sent > ?", []any{"2024-05-01T10:20:30Z"}},
		{"fraction eq never matches", schema.Graph,
			"createdDateTime eq 2024-05-01T10:20:30.5Z", "1 = 0", nil},
		{"fraction not eq always matches", schema.Graph,
			"not(createdDateTime eq 2024-05-01T10:20:30.5Z)", "1 = 1", nil},
		{"not lt", schema.Graph, "not(receivedDateTime lt 2024-01-01)",
			"(received IS NULL OR received >= ?)", []any{"2024-01-01T00:00:00Z"}},
		{"literal first", schema.Graph, "2020-01-01T00:00:00Z lt receivedDateTime",
			"received > ?", []any{"2020-01-01T00:00:00Z"}},
		{"bool", schema.Graph, "isRead eq false", "is_read = ?", []any{false}},
		{"bare bool", schema.Graph, "isRead", "is_read = ?", []any{true}},
		{"bare bool properties", schema.Graph, "isRead and not isDraft",
			"(is_read = ? AND (is_draft IS NULL OR is_draft <> ?))", []any{true, true}},
		{"enum any case", schema.Graph, "importance eq 'High'", "importance = ?",
			[]any{"high"}},
		{"enum Graph prefix", schema.Graph, "importance eq microsoft.graph.importance'low'",
			"importance = ?", []any{"low"}},
		{"enum REST prefix", schema.REST,
			"Importance eq Microsoft.OutlookServices.Importance'High'",
			"importance = ?", []any{"high"}},
		{"enum in path", schema.Graph, "flag/flagStatus ne 'Flagged'",
			"(flag_status IS NULL OR flag_status <> ?)", []any{"flagged"}},
		{"startswith escapes wildcards", schema.Graph, `startswith(subject,'100%_\')`,
			`subject LIKE ? ESCAPE '\'`, []any{`100\%\_\\%`}},
		{"endswith", schema.Graph, "endswith(from/emailAddress/address,'@contoso.com')",
			`from_address LIKE ? ESCAPE '\'`, []any{"%@contoso.com"}},
		{"contains", schema.Graph, "contains(subject,'O''Brien')",
			`subject LIKE ? ESCAPE '\'`, []any{"%O'Brien%"}},
		{"not contains", schema.Graph, "not contains(subject,'x')",
			`(subject IS NULL OR subject NOT LIKE ? ESCAPE '\')`, []any{"%x%"}},
		{"eq null", schema.Graph, "subject eq null", "subject IS NULL", nil},
		{"ne null", schema.Graph, "subject ne null", "subject IS NOT NULL", nil},
		{"null first", schema.Graph, "null eq subject", "subject IS NULL", nil},
		{"not eq null", schema.Graph, "not(subject eq null)", "subject IS NOT NULL", nil},
		{"precedence", schema.Graph,
			"isRead eq true or isDraft eq true and hasAttachments eq false",
			"(is_read = ? OR (is_draft = ? AND has_attachments = ?))",
			[]any{true, true, false}},
		{"parentheses", schema.Graph,
			"(isRead eq true or isDraft eq true) and hasAttachments eq false",
			"((is_read = ? OR is_draft = ?) AND has_attachments = ?)",
			[]any{true, true, false}},
		{"de morgan", schema.Graph, "not(isRead eq true or importance eq 'high')",
			"((is_read IS NULL OR is_read <> ?) AND (importance IS NULL OR importance <> ?))",
			[]any{true, "high"}},
		{"in", schema.Graph, "subject in ('a','b')", "subject IN (?, ?)", []any{"a", "b"}},
		{"in one", schema.Graph, "importance in ('Low')", "importance IN (?)",
			[]any{"low"}},
		{"not in", schema.Graph, "not(subject in ('a'))",
			"(subject IS NULL OR subject NOT IN (?))", []any{"a"}},
		{"true", schema.Graph, "true", "1 = 1", nil},
		{"REST names", schema.REST,
			"Subject eq 'x' and From/EmailAddress/Address eq 'y' and IsRead eq true",
			"((subject = ? AND from_address = ?) AND is_read = ?)",
			[]any{"x", "y", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := filterQuery(t, tt.filter, tt.d, DefaultLimits)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.filter, err)
			}
			if q.Store.Where != tt.where {
				t.Errorf("where: got %q, want %q", q.Store.Where, tt.where)
			}
			if diff := cmp.Diff(tt.args, q.Store.Args); diff != "" {
				t.Errorf("args (-want +got):\n%s", diff)
			}
		})
	}
}

// checkError asserts that err is a 400 *httpserver.Error with code and a
// message that starts with msg.
func checkError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var he *httpserver.Error
	if !errors.As(err, &he) {
		t.Fatalf("got error %v (%T), want *httpserver.Error %s", err, err, code)
	}
	if he.Status != http.StatusBadRequest {
		t.Errorf("status: got %d, want 400", he.Status)
	}
	if he.Code != code {
		t.Errorf("code: got %q, want %q (message %q)", he.Code, code, he.Message)
	}
	if !strings.HasPrefix(he.Message, msg) {
		t.Errorf("message: got %q, want prefix %q", he.Message, msg)
	}
}

func TestFilterErrors(t *testing.T) {
	deep := strings.Repeat("not(", 120) + "isRead eq true" + strings.Repeat(")", 120)
	long := "isRead eq true" + strings.Repeat(" or isRead eq true", 100)
	wide := "subject in ('a'" + strings.Repeat(",'a'", 600) + ")"
	tests := []struct {
		name   string
		d      schema.Dialect
		filter string
		code   string
		msg    string
	}{
		{"syntax", schema.Graph, "subject eq", CodeBadRequest, "Invalid filter clause: "},
		{"unbalanced", schema.Graph, "(isRead eq true", CodeBadRequest,
			"Invalid filter clause: "},
		{"empty", schema.Graph, " ", CodeBadRequest, "Invalid filter clause: "},
		{"not boolean", schema.Graph, "subject", CodeBadRequest,
			"Invalid filter clause: the property 'subject' is not a boolean expression."},
		{"literal alone", schema.Graph, "'x'", CodeBadRequest,
			"Invalid filter clause: ''x'' is not a boolean expression."},
		{"arithmetic", schema.Graph, "1 add 2", CodeBadRequest, "Invalid filter clause: "},
		{"unknown property", schema.Graph, "foo eq 'x'", CodeParseURI,
			"Could not find a property named 'foo' on type 'microsoft.graph.message'."},
		{"unknown property REST", schema.REST, "Foo eq 'x'", CodeParseURI,
			"Could not find a property named 'Foo' on type " +
				"'Microsoft.OutlookServices.Message'."},
		{"Graph name on REST", schema.REST, "from/emailAddress/address eq 'x'", "",
			""}, // names ignore case, so this is the same path
		{"unknown nested", schema.Graph, "from/emailAddress/foo eq 'x'", CodeParseURI,
			"Could not find a property named 'foo' on type 'microsoft.graph.emailAddress'."},
		{"path past primitive", schema.Graph, "subject/x eq 'x'", CodeParseURI,
			"Could not find a property named 'x' on type 'Edm.String'."},
		{"no column", schema.Graph, "bodyPreview eq 'x'", CodeInvalidProperty,
			"The property 'bodyPreview' does not support filtering."},
		{"no column REST", schema.REST, "ChangeKey eq 'x'", CodeInvalidProperty,
			"The property 'ChangeKey' does not support filtering."},
		{"string for bool", schema.Graph, "isRead eq 'yes'", CodeBadRequest,
			"A binary operator with incompatible types was detected. Found operand types " +
				"'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."},
		{"quoted date", schema.Graph, "receivedDateTime ge '2017-01-01'", CodeBadRequest,
			"A binary operator with incompatible types was detected. Found operand types " +
				"'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'GreaterThanOrEqual'."},
		{"bool for string", schema.Graph, "subject eq true", CodeBadRequest,
			"A binary operator with incompatible types was detected. Found operand types " +
				"'Edm.String' and 'Edm.Boolean' for operator kind 'Equal'."},
		{"number for string", schema.Graph, "id eq 5", CodeBadRequest,
			"A binary operator with incompatible types was detected. Found operand types " +
				"'Edm.String' and 'Edm.Int32'"},
		{"date for enum", schema.REST, "Importance eq 2020-01-01", CodeBadRequest,
			"A binary operator with incompatible types was detected. Found operand types " +
				"'Microsoft.OutlookServices.Importance' and 'Edm.Date'"},
		{"bad date", schema.Graph, "receivedDateTime eq -2017-01-01", CodeBadRequest,
			"The value '-2017-01-01' is not a valid Edm.DateTimeOffset."},
		{"bad enum member", schema.Graph, "importance eq 'urgent'", CodeBadRequest,
			"The string 'urgent' is not a valid enumeration type constant"},
		{"enum order", schema.Graph, "importance gt 'low'", CodeBadRequest,
			"The operator 'gt' cannot be applied to the property 'importance'"},
		{"null order", schema.Graph, "subject lt null", CodeBadRequest,
			"The operator 'lt' cannot be compared with null."},
		{"two properties", schema.Graph, "subject eq subject", CodeBadRequest,
			"Comparing two properties is not supported."},
		{"two literals", schema.Graph, "'a' eq 'b'", CodeBadRequest,
			"Invalid filter clause: a comparison needs a property"},
		{"lambda", schema.Graph, "categories/any(c:c eq 'x')", CodeBadRequest,
			"Filtering with the lambda operators 'any' and 'all' is not supported."},
		{"function in comparison", schema.Graph, "tolower(subject) eq 'x'", CodeBadRequest,
			"The function 'tolower' in a comparison is not supported."},
		{"unknown function", schema.Graph, "isof(subject)", CodeBadRequest,
			"The function 'isof' is not supported."},
		{"has", schema.Graph, "subject has 'x'", CodeBadRequest,
			"The operator 'has' is not supported."},
		{"like on bool", schema.Graph, "startswith(isRead,'t')", CodeBadRequest,
			"The function 'startswith' cannot be applied to the property 'isRead'"},
		{"contains on REST", schema.REST, "contains(Subject,'x')", "", ""},
		{"too long", schema.Graph, "subject eq '" + strings.Repeat("x", 5000) + "'",
			CodeBadRequest, "The query exceeds the limit of 4096 characters in $filter."},
		{"too many nodes", schema.Graph, wide, CodeBadRequest,
			"The query exceeds the limit of 512 nodes in $filter."},
		{"too deep", schema.Graph, deep, CodeBadRequest,
			"The query exceeds the limit of 100 levels of nesting in $filter."},
		{"open parentheses refused before parsing", schema.Graph, strings.Repeat("(", 150),
			CodeBadRequest, "The query exceeds the limit of 100 levels of nesting in $filter."},
		{"words refused before parsing", schema.Graph, strings.Repeat("a ", 600),
			CodeBadRequest, "The query exceeds the limit of 512 nodes in $filter."},
		{"too long a chain", schema.Graph, long, CodeBadRequest,
			"The query exceeds the limit of 100 levels of nesting in $filter."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := filterQuery(t, tt.filter, tt.d, DefaultLimits)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			checkError(t, err, tt.code, tt.msg)
		})
	}
}

func TestExchangeLimitsRefuseStringFunctions(t *testing.T) {
	for _, f := range []string{"contains(Subject,'x')", "startswith(Subject,'x')"} {
		_, err := filterQuery(t, f, schema.REST, ExchangeLimits)
		checkError(t, err, CodeInvalidFilter,
			"'contains' and 'startswith' are not supported for filtering.")
	}
}
