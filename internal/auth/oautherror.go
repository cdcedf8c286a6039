package auth

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/google/uuid"
)

// oauthError is a token service failure in Azure AD's shape: the RFC 6749
// section 5.2 members plus error_codes, timestamp, trace_id and
// correlation_id, with "AADSTSnnnn: " before the description and the ids
// repeated after it (Microsoft identity platform "error codes" page).
type oauthError struct {
	status      int
	code        string // RFC 6749 5.2 error, e.g. invalid_client
	codes       []int  // AADSTS numbers; empty where Azure AD has none we know
	description string
	basic       bool // the client used HTTP Basic: 401 carries a Basic challenge
}

// aadError is the JSON body.
type aadError struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	Timestamp     string `json:"timestamp"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// guidPattern is what a client-request-id must look like to be echoed as
// the correlation id (MSAL sends a GUID there).
var guidPattern = regexp.MustCompile(
	`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (i *Issuer) writeOAuthError(w http.ResponseWriter, r *http.Request, e *oauthError) {
	now := i.now().UTC().Format("2006-01-02 15:04:05Z")
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id")
	if !guidPattern.MatchString(corr) {
		corr = uuid.NewString()
	}
	desc := e.description
	if len(e.codes) > 0 {
		desc = fmt.Sprintf("AADSTS%d: %s", e.codes[0], desc)
	}
	desc += "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + now
	codes := e.codes
	if codes == nil {
		codes = []int{}
	}
	if e.status == http.StatusUnauthorized && e.basic {
		// RFC 6749 5.2: answer a failed Basic authentication with its challenge.
		w.Header().Set("WWW-Authenticate", `Basic realm="`+i.IssuerURL()+`"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, e.status, aadError{Error: e.code, Description: desc, Codes: codes,
		Timestamp: now, TraceID: trace, CorrelationID: corr})
}

func missingParameter(name string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
		codes:       []int{900144},
		description: fmt.Sprintf("The request body must contain the following parameter: '%s'.", name)}
}

func tenantNotFound(t string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request",
		codes: []int{90002}, description: fmt.Sprintf("Tenant '%s' not found. Check to "+
			"make sure you have the correct tenant ID and are signing into the correct "+
			"cloud.", strings.ToValidUTF8(t, "?"))}
}

func invalidClient(code int, description string, basic bool) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client",
		codes: []int{code}, description: description, basic: basic}
}

func serverError() *oauthError {
	return &oauthError{status: http.StatusInternalServerError, code: "server_error",
		codes: []int{}, description: "The token service failed; the cause is in its log."}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write json", "err", err)
	}
}
