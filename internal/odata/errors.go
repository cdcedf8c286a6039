package odata

import (
	"net/http"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// Error codes this package answers with. Graph's own query parser answers
// "BadRequest" for malformed options; unknown properties come from the
// Outlook request broker as "RequestBroker-ParseUri" and properties without
// an index from Exchange as "ErrorInvalidProperty" (graph-api.md §5).
const (
	CodeBadRequest      = "BadRequest"
	CodeParseURI        = "RequestBroker-ParseUri"
	CodeInvalidProperty = "ErrorInvalidProperty"
	// CodeInvalidFilter is Exchange 2016's code for a $filter function it
	// does not evaluate (exchange-hybrid.md §1.4).
	CodeInvalidFilter = "ErrorInvalidUrlQueryFilter"
)

func badRequest(format string, args ...any) *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, CodeBadRequest, format, args...)
}

// invalidFilter reports a $filter that cannot be read; Graph's message
// starts "Invalid filter clause" and adds the detail.
func invalidFilter(cause error, detail string) *httpserver.Error {
	return httpserver.Wrap(cause, http.StatusBadRequest, CodeBadRequest,
		"Invalid filter clause: "+detail)
}

// unknownProperty is the request broker's answer for a name the type does
// not have, with the type's name in the caller's dialect.
func unknownProperty(name, typeName string) *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, CodeParseURI,
		"Could not find a property named '%s' on type '%s'.", name, typeName)
}

// notFilterable and notSortable are Exchange's answers for a property that
// exists but has no column ("The property 'ChangeKey' does not support
// filtering.", exchange-hybrid.md §1.4).
func notFilterable(name string) *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, CodeInvalidProperty,
		"The property '%s' does not support filtering.", name)
}

func notSortable(name string) *httpserver.Error {
	return httpserver.Errorf(http.StatusBadRequest, CodeInvalidProperty,
		"The property '%s' does not support sorting.", name)
}

// incompatible mirrors the OData library's message for a comparison whose
// operands have different types, e.g. a quoted string against a boolean.
func incompatible(col *schema.Column, lit string, op string, d schema.Dialect) *httpserver.Error {
	return badRequest("A binary operator with incompatible types was detected. "+
		"Found operand types '%s' and '%s' for operator kind '%s'.",
		edmType(col, d), lit, opKind[op])
}

// edmType names the OData type of a column's values, as error messages do.
func edmType(col *schema.Column, d schema.Dialect) string {
	switch col.Kind {
	case schema.Bool:
		return "Edm.Boolean"
	case schema.Int32:
		return "Edm.Int32"
	case schema.DateTimeOffset:
		return "Edm.DateTimeOffset"
	case schema.Enum:
		if d == schema.REST {
			return "Microsoft.OutlookServices." + schema.Pascal(col.Enum.Name)
		}
		return "microsoft.graph." + col.Enum.Name
	default:
		return "Edm.String"
	}
}

// opKind names comparison operators the way OData error messages do.
var opKind = map[string]string{
	"eq": "Equal", "ne": "NotEqual",
	"gt": "GreaterThan", "ge": "GreaterThanOrEqual",
	"lt": "LessThan", "le": "LessThanOrEqual",
	"in": "In",
}

// limitExceeded names the limit a request went past, so that a client can
// tell a refused query from a malformed one.
func limitExceeded(what string, limit int) *httpserver.Error {
	return badRequest("The query exceeds the limit of %d %s.", limit, what)
}

// unsupported reports a query feature this server does not implement.
func unsupported(what string) *httpserver.Error {
	return badRequest("%s is not supported.", what)
}
