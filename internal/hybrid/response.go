package hybrid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// graphJSON is the Content-Type Graph gives its JSON answers (graph-api.md §4).
const graphJSON = "application/json;odata.metadata=minimal;odata.streaming=true;" +
	"IEEE754Compatible=false;charset=utf-8"

// maxMessage bounds an error message taken from the other premises.
const maxMessage = 2048

// answer turns one v2.0 answer into the Graph answer.
type answer struct {
	rt     *Router
	res    *resource
	target Target
	base   string  // gateway base URL, no trailing slash
	query  []param // the client's query, Graph spelling
}

// write sends the Graph form of resp, whose body has been read. It returns
// an error, writing nothing, when the answer is a failure or unusable.
func (a *answer) write(w http.ResponseWriter, resp *http.Response, body []byte) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return a.failure(resp, body)
	}
	h := w.Header()
	for _, k := range []string{"ETag", "Preference-Applied", "OData-Version"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		// The change is made by now: a Location we cannot rebuild is
		// dropped rather than turned into a failure.
		if g, err := a.link(loc); err == nil {
			h.Set("Location", g)
		} else {
			a.rt.log.Warn("hybrid: Location of the on-prem answer dropped", "err", err)
		}
	}
	if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusNoContent ||
		len(body) == 0 {
		w.WriteHeader(resp.StatusCode)
		return nil
	}

	ct := resp.Header.Get("Content-Type")
	out := body
	if isJSON(ct) && !a.res.raw {
		var err error
		if out, err = a.translate(body); err != nil {
			return badAnswer(err)
		}
		ct = graphJSON
	}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	w.WriteHeader(resp.StatusCode)
	if _, err := w.Write(out); err != nil {
		a.rt.log.Debug("hybrid: write answer", "err", err)
	}
	return nil
}

// translate renames a v2.0 JSON body to Graph and rewrites its control
// information.
func (a *answer) translate(body []byte) ([]byte, error) {
	out, err := schema.TranslateEdit(body, a.res.resultType(), schema.REST, schema.Graph,
		a.annotation)
	if err != nil {
		return nil, fmt.Errorf("translate answer: %w", err)
	}
	if a.res.delta {
		return deltaPage(out, a.context())
	}
	return out, nil
}

func badAnswer(cause error) error {
	return httpserver.Wrap(cause, http.StatusBadGateway, "UnknownError",
		"The mailbox server's answer could not be read.")
}

// droppedLinks are OData link annotations. Their values are URLs of the
// other premises, which a client must never be sent to; Graph omits them
// in the minimal metadata it answers with.
var droppedLinks = map[string]bool{
	"id": true, "editlink": true, "readlink": true, "navigationlink": true,
	"associationlink": true, "mediaeditlink": true, "mediareadlink": true,
}

// annotation decides the fate of one annotation in the translated answer.
func (a *answer) annotation(depth int, key string, raw []byte) ([]byte, bool, error) {
	i := strings.Index(key, "@odata.")
	if i < 0 {
		return raw, true, nil
	}
	term := strings.ToLower(key[i+len("@odata."):])
	switch {
	case droppedLinks[term]:
		return nil, false, nil
	case term == "context" && depth == 1 && i == 0:
		c := a.context()
		return quote(c), c != "", nil
	case term == "context":
		return nil, false, nil
	case (term == "nextlink" || term == "deltalink") && depth == 1 && i == 0:
		var link string
		if err := json.Unmarshal(raw, &link); err != nil {
			return nil, false, fmt.Errorf("%s: %w", key, err)
		}
		g, err := a.link(link)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", key, err)
		}
		return quote(g), true, nil
	}
	return raw, true, nil
}

// quote writes s as a JSON string; links keep their "&" unescaped.
func quote(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// context is the Graph @odata.context of the answer (graph-api.md §3.1):
// <base>/v1.0/$metadata#users('<upn>')/<path>, /$entity for one entity,
// #<type> for an action's result.
func (a *answer) context() string {
	meta := a.base + "/v1.0/$metadata#"
	if a.res.delta {
		return meta + "Collection(message)"
	}
	if act := a.res.action; act != nil {
		if t := a.res.resultType(); t != nil {
			return meta + t.Graph
		}
		return ""
	}
	sel := selectList(a.query)
	if sel != "" {
		sel = translateSelect(sel, a.res.typ, schema.Graph, schema.Graph)
	}
	key := a.target.ObjectID
	if key == "" {
		key = a.target.UPN
	}
	return meta + "users(" + contextKey(key) + ")/" + a.res.contextPath(sel)
}

// link rebuilds a v2.0 URL of the other premises (a nextLink, a Location)
// on the gateway: path and query names back to Graph, the user as
// users/<upn>. The client follows it unchanged (graph-api.md §3.3).
func (a *answer) link(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse link: %w", err)
	}
	p := u.EscapedPath()
	i := strings.Index(strings.ToLower(p), "/v2.0/")
	if i < 0 {
		return "", errors.New("link is not a v2.0 URL")
	}
	segs := strings.Split(p[i+len("/v2.0/"):], "/")
	for j, s := range segs {
		if segs[j], err = url.PathUnescape(s); err != nil {
			return "", fmt.Errorf("link path: %w", err)
		}
	}
	switch first := strings.ToLower(segs[0]); {
	case first == "me" || strings.HasPrefix(first, "users(") && strings.HasSuffix(first, ")"):
		segs = segs[1:]
	case first == "users" && len(segs) > 1:
		segs = segs[2:]
	default:
		return "", errors.New("link does not name a user")
	}

	res := translatePath(segs, schema.Graph)
	if a.res != nil && a.res.delta {
		// The v2.0 link names the collection; Graph's names delta on it.
		res.segs = append(res.segs, "delta")
	}
	out := a.base + "/v1.0/users/" + url.PathEscape(a.target.UPN)
	if len(res.segs) > 0 {
		out += "/" + strings.Join(res.segs, "/")
	}
	if q := translateQuery(parseQuery(u.RawQuery), res.typ, schema.REST, schema.Graph); len(q) > 0 {
		out += "?" + encodeQuery(q)
	}
	return out, nil
}

// failure turns a v2.0 error answer into the Graph error: the same status
// and code, the message with the preview sentence appended, as Graph did
// for every on-prem mailbox error (reference §5). The Graph envelope adds
// innerError with the gateway's request-id.
func (a *answer) failure(resp *http.Response, body []byte) error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env) // a body that is not v2.0 JSON gets a generic code
	status, code, msg := resp.StatusCode, env.Error.Code, strings.TrimSpace(env.Error.Message)
	if status < 400 {
		// Informational or redirect: nothing a Graph client can use, and
		// redirects are not followed with the user's token.
		status, code, msg = http.StatusBadGateway, "", ""
	}
	if code == "" {
		code = "UnknownError"
		msg = fmt.Sprintf("The mailbox server answered %d %s.", resp.StatusCode,
			http.StatusText(resp.StatusCode))
	}
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	if msg != "" {
		msg += " "
	}
	e := &httpserver.Error{Status: status, Code: code, Message: msg + PreviewSentence,
		Cause: fmt.Errorf("on-prem answered %d %s", resp.StatusCode, code)}
	if ra := resp.Header.Get("Retry-After"); ra != "" &&
		(status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		e.Header = http.Header{"Retry-After": {ra}}
	}
	if allow := resp.Header.Get("Allow"); allow != "" && status == http.StatusMethodNotAllowed {
		e.Header = http.Header{"Allow": {allow}}
	}
	return e
}
