package autodiscover

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ProtocolRest is the Autodiscover v2 protocol value for Outlook REST; its
// Url is the REST root (…/api), under which /v2.0 lives.
const ProtocolRest = "Rest"

// supported lists the protocols this server answers for. Only Rest: the
// on-premises server serves Outlook REST and nothing else Autodiscover could
// name (no EWS, ActiveSync or POX Autodiscover), and pointing a client at an
// endpoint that does not exist would be worse than saying so.
var supported = []string{ProtocolRest}

// Path is where Handler is mounted. IIS matches it case-insensitively, and
// so does Handler.
const Path = "/autodiscover/autodiscover.json"

// maxRedirectCount bounds the RedirectCount a client may send. Clients send
// small values (0–5, reference §2.3); anything large is not a client.
const maxRedirectCount = 100

// Answer is the success body of Autodiscover v2 (reference §2.2).
type Answer struct {
	Protocol string `json:"Protocol"`
	URL      string `json:"Url"`
}

// errorBody is the failure body of Autodiscover v2 (reference §2.2).
type errorBody struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// Handler serves Autodiscover v2 for the Rest protocol. lookup maps a
// validated SMTP address to the REST root URL of its mailbox (for example
// http://127.0.0.1:5443/api); ok false means the address has no mailbox
// here.
//
// The endpoint is anonymous, as Exchange's is (reference §2.1). An address
// with no mailbox gets 404 UserNotFound: Exchange documents no answer for
// it, and a distinct 404 lets a client (ours) tell "no mailbox" from "server
// down" and cache the former briefly. It does tell an anonymous caller which
// addresses exist; lookup may answer ok for every address of an accepted
// domain to avoid that.
func Handler(lookup func(ctx context.Context, email string) (restURL string, ok bool),
) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
				"Autodiscover v2 accepts GET only.")
			return
		}
		email, protocol, status, code, msg := parseRequest(r.URL)
		if status != 0 {
			writeError(w, status, code, msg)
			return
		}
		restURL, ok := lookup(r.Context(), email)
		if !ok {
			writeError(w, http.StatusNotFound, "UserNotFound",
				"No mailbox was found for the given email address.")
			return
		}
		writeJSON(w, http.StatusOK, Answer{Protocol: protocol, URL: restURL})
	})
}

// parseRequest validates an Autodiscover v2 request URL. It returns the
// address and the protocol in its canonical spelling, or a status, code and
// message to answer with.
func parseRequest(u *url.URL) (email, protocol string, status int, code, msg string) {
	pathEmail, isPath, found := splitPath(u)
	if !found {
		return "", "", http.StatusNotFound, "NotFound", "The requested resource was not found."
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", "", http.StatusBadRequest, "InvalidRequest", "The query string is malformed."
	}
	params, dup := single(q, "email", "protocol", "redirectcount")
	if dup != "" {
		return "", "", http.StatusBadRequest, "InvalidRequest",
			"The parameter '" + dup + "' is given more than once."
	}

	protocol, ok := canonicalProtocol(params["protocol"])
	if !ok {
		return "", "", http.StatusBadRequest, "InvalidProtocol", "The given protocol value '" +
			clip(params["protocol"]) + "' is invalid. Supported values are '" +
			strings.Join(supported, ", ") + "'"
	}
	if rc, has := params["redirectcount"]; has {
		n, err := strconv.Atoi(rc)
		if err != nil || n < 0 || n > maxRedirectCount {
			return "", "", http.StatusBadRequest, "InvalidRequest",
				"The RedirectCount value is invalid."
		}
	}

	// Route on one address only: the path form or Email, never both, so
	// that no second value can steer the request (ProxyShell, §2.1).
	email, hasQuery := params["email"]
	switch {
	case isPath && hasQuery:
		return "", "", http.StatusBadRequest, "InvalidRequest",
			"The email address is given both in the path and in the query."
	case isPath:
		email = pathEmail
	}
	if !ValidAddress(email) {
		return "", "", http.StatusBadRequest, "InvalidEmailAddress",
			"The given email address is not a valid SMTP address."
	}
	return email, protocol, 0, "", ""
}

// splitPath recognises the two request forms. isPath reports the
// /v1.0/<smtp> form and email is its unescaped address segment; found is
// false for any other path.
func splitPath(u *url.URL) (email string, isPath, found bool) {
	p := u.EscapedPath()
	if len(p) < len(Path) || !strings.EqualFold(p[:len(Path)], Path) {
		return "", false, false
	}
	rest := p[len(Path):]
	switch {
	case rest == "" || rest == "/":
		return "", false, true
	case len(rest) > len("/v1.0/") && strings.EqualFold(rest[:len("/v1.0/")], "/v1.0/"):
		seg := rest[len("/v1.0/"):]
		if strings.Contains(seg, "/") { // one segment only, judged before unescaping
			return "", false, false
		}
		e, err := url.PathUnescape(seg)
		if err != nil {
			return "", false, false
		}
		return e, true, true
	}
	return "", false, false
}

// single picks the named parameters (matched case-insensitively, as
// clients vary the casing) and reports one given more than once.
func single(q url.Values, names ...string) (map[string]string, string) {
	out := make(map[string]string, len(names))
	for k, vs := range q {
		lk := strings.ToLower(k)
		for _, n := range names {
			if lk != n {
				continue
			}
			if _, seen := out[n]; seen || len(vs) > 1 {
				return nil, k
			}
			out[n] = vs[0]
		}
	}
	return out, ""
}

// canonicalProtocol matches p case-insensitively, as Exchange does for the
// values real clients send ("activesync", "Autodiscoverv1", §2.2).
func canonicalProtocol(p string) (string, bool) {
	for _, s := range supported {
		if strings.EqualFold(p, s) {
			return s, true
		}
	}
	return "", false
}

// clip bounds how much of a client's value is echoed in a message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{ErrorCode: code, ErrorMessage: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("autodiscover: write answer", "err", err)
	}
}
