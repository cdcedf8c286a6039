package hybrid

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/autodiscover"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// Connector is an IntraOrganizationConnector: the mailboxes whose target
// address is in one of TargetAddressDomains live on the premises whose
// Autodiscover service is DiscoveryEndpoint (reference §3.2). A disabled
// connector routes nothing.
type Connector struct {
	Name                 string
	TargetAddressDomains []string
	// DiscoveryEndpoint is an Autodiscover URL: a host base, the
	// autodiscover.json URL, or the autodiscover.svc URL connectors hold.
	DiscoveryEndpoint string
	Enabled           bool
}

// Options configure a Router.
type Options struct {
	Connectors []Connector
	// Discovery finds the REST root; nil means a default client.
	Discovery *autodiscover.Client
	// Tokens issues the S2S tokens; required.
	Tokens TokenSource
	// HTTP sends the proxied calls; nil means a pooled client (see
	// NewTransport). Its redirect policy is replaced: redirects from the
	// other premises are never followed with the user's token.
	HTTP *http.Client
	// Timeout bounds one proxied request, discovery included; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds an answer from the other premises; 0 means
	// DefaultMaxResponseBytes. A larger answer is a 502.
	MaxResponseBytes int64
	// Log receives what the access log cannot say; nil means slog.Default.
	Log *slog.Logger
	// Now is the clock of the token cache; nil means time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// Target is the on-premises user a request is for, from the directory.
type Target struct {
	UPN           string   // user principal name: the S2S token's subject, the v2.0 path key
	TargetAddress string   // on-prem SMTP address: picks the connector, asked of Autodiscover
	Scopes        []string // permissions granted to the caller, carried in the token
	// ObjectID is the user's directory id: @odata.context names users by
	// it, as for cloud mailboxes. Empty means the UPN is used.
	ObjectID string
}

// Router proxies Graph requests for on-premises mailboxes. It is safe for
// concurrent use.
type Router struct {
	connectors []Connector
	discovery  *autodiscover.Client
	tokenSrc   TokenSource
	tokens     tokenCache
	http       *http.Client
	timeout    time.Duration
	maxBody    int64
	log        *slog.Logger
}

// NewRouter returns a Router for o.
func NewRouter(o Options) *Router {
	rt := &Router{
		connectors: o.Connectors,
		discovery:  o.Discovery,
		tokenSrc:   o.Tokens,
		tokens:     tokenCache{now: o.Now},
		timeout:    o.Timeout,
		maxBody:    o.MaxResponseBytes,
		log:        o.Log,
	}
	if rt.discovery == nil {
		rt.discovery = &autodiscover.Client{}
	}
	if rt.tokens.now == nil {
		rt.tokens.now = time.Now
	}
	if rt.timeout <= 0 {
		rt.timeout = DefaultTimeout
	}
	if rt.maxBody <= 0 {
		rt.maxBody = DefaultMaxResponseBytes
	}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	hc := &http.Client{Transport: NewTransport()}
	if o.HTTP != nil {
		cp := *o.HTTP
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rt.http = hc
	return rt
}

// NewTransport returns the pooled transport the router uses by default:
// keep-alive connections, up to 64 idle per on-prem host, since every
// proxied request of an organisation goes to the same few hosts.
func NewTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Serve handles one Graph request for an on-premises mailbox. version is
// "v1.0" or "beta"; rest are the path segments after users/{id} or me,
// split and unescaped; gatewayBase is the gateway's public base URL (such
// as http://127.0.0.1:5080), on which links in the answer are rebuilt.
//
// A returned error is an *httpserver.Error for the Graph envelope, and
// nothing has been written; with a nil error the answer has been written.
func (rt *Router) Serve(w http.ResponseWriter, r *http.Request, version string, target Target,
	rest []string, gatewayBase string) error {
	httpserver.SetPremises(r.Context(), "onprem")
	if !Allowed(version, rest) {
		return UnsupportedError()
	}
	res := translatePath(rest, schema.REST)
	res.trackChanges()
	if r.Method == http.MethodPost && res.action == nil && !res.entity && !res.raw {
		res.entity = true // a create answers with the new entity
	}

	ctx, cancel := context.WithTimeout(r.Context(), rt.timeout)
	defer cancel()
	root, err := rt.restRoot(ctx, target)
	if err != nil {
		return rt.callError(err, r.Context(), "discover")
	}
	req, err := rt.outgoing(ctx, r, target, root, &res)
	if err != nil {
		return err
	}
	resp, err := rt.http.Do(req)
	if err != nil {
		return rt.callError(err, r.Context(), "proxy")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, rt.maxBody+1))
	if err != nil {
		return rt.callError(err, r.Context(), "read answer")
	}
	if int64(len(body)) > rt.maxBody {
		return httpserver.Errorf(http.StatusBadGateway, "UnknownError",
			"The mailbox server's answer exceeds %d bytes.", rt.maxBody)
	}
	a := answer{rt: rt, res: &res, target: target, base: strings.TrimRight(gatewayBase, "/"),
		query: parseQuery(r.URL.RawQuery)}
	return a.write(w, resp, body)
}

// restRoot picks the connector for the target address and discovers the
// REST root of its mailbox.
func (rt *Router) restRoot(ctx context.Context, target Target) (*url.URL, error) {
	domain := autodiscover.Domain(target.TargetAddress)
	var conn *Connector
	for i := range rt.connectors {
		c := &rt.connectors[i]
		if c.Enabled && conn == nil && containsFold(c.TargetAddressDomains, domain) {
			conn = c
		}
	}
	if domain == "" || conn == nil {
		return nil, notEnabled(errors.New("no enabled connector for the target address domain"))
	}
	raw, err := rt.discovery.Discover(ctx, conn.DiscoveryEndpoint, target.TargetAddress,
		autodiscover.ProtocolRest)
	if errors.Is(err, autodiscover.ErrNotFound) {
		return nil, notEnabled(err)
	}
	if err != nil {
		return nil, err
	}
	root, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || root.RawQuery != "" || root.Fragment != "" {
		return nil, httpserver.Wrap(errors.Join(errors.New("bad REST root"), err),
			http.StatusServiceUnavailable, "serviceNotAvailable", unreachableMessage)
	}
	return root, nil
}

// notEnabled is Graph's answer for a mailbox it will not or cannot proxy
// (reference §5, KB 4462988).
func notEnabled(cause error) *httpserver.Error {
	return httpserver.Wrap(cause, http.StatusNotFound, "MailboxNotEnabledForRESTAPI",
		"REST API is not yet supported for this mailbox.")
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(strings.TrimSpace(v), s) {
			return true
		}
	}
	return false
}

// outgoing builds the v2.0 request: URL, translated body, headers, token.
func (rt *Router) outgoing(ctx context.Context, r *http.Request, target Target, root *url.URL,
	res *resource) (*http.Request, error) {
	if rt.tokenSrc == nil || target.UPN == "" {
		return nil, httpserver.Wrap(errors.New("no token source or no UPN"),
			http.StatusInternalServerError, "generalException", "An internal server error occurred.")
	}
	token, err := rt.tokens.get(rt.tokenSrc, target.UPN, root.Hostname(), target.Scopes)
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusInternalServerError, "generalException",
			"An internal server error occurred.")
	}
	body, err := rt.requestBody(r, res)
	if err != nil {
		return nil, err
	}

	// /v2.0/users('<upn>')/… with the UPN as an OData string key
	// (reference §1.2): quotes doubled, then percent-escaped.
	u := root.String() + "/v2.0/users('" + url.PathEscape(strings.ReplaceAll(target.UPN, "'", "''")) +
		"')/" + strings.Join(res.segs, "/")
	q := translateQuery(parseQuery(r.URL.RawQuery), res.typ, schema.Graph, schema.REST)
	if len(q) > 0 {
		u += "?" + encodeQuery(q)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "BadRequest",
			"The request URL is invalid.")
	}
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for _, h := range []string{"Content-Type", "Prefer", "client-request-id", "If-Match",
		"If-None-Match", "Accept"} {
		for _, v := range r.Header.Values(h) {
			req.Header.Add(h, v)
		}
	}
	if res.delta {
		req.Header.Add("Prefer", trackChangesPreference)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-AnchorMailbox", target.UPN)
	req.Header.Set("return-client-request-id", "true")
	return req, nil
}

// requestBody reads the client's body and translates JSON to v2.0 names.
// Other bodies (MIME in base64 as text/plain) pass as they are.
func (rt *Router) requestBody(r *http.Request, res *resource) ([]byte, error) {
	body, err := httpserver.ReadBody(r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return nil, err
	}
	if !isJSON(r.Header.Get("Content-Type")) {
		return body, nil
	}
	out, err := schema.Translate(body, res.bodyType(), schema.Graph, schema.REST)
	if err != nil {
		return nil, httpserver.Wrap(err, http.StatusBadRequest, "RequestBodyRead",
			"The request body is not valid JSON.")
	}
	return out, nil
}

// isJSON reports a JSON media type; an absent Content-Type counts, as
// Graph clients often leave it out on small bodies.
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

const (
	unreachableMessage = "The mailbox server could not be reached. Try again later."
	timeoutMessage     = "The mailbox server did not answer in time."
)

// callError classifies a failed call to the other premises. parent is the
// client's own context, to tell its disconnect from our timeout.
//
// Codes: 503 serviceNotAvailable is the code Graph's errors page gives for
// 503; 504 UnknownError is what the Outlook workload was seen to send for
// a back end that did not answer in time (graph-api.md §5). 503 carries
// Retry-After, which Graph clients honour (§4).
func (rt *Router) callError(err error, parent context.Context, step string) error {
	var he *httpserver.Error
	if errors.As(err, &he) {
		return he
	}
	switch {
	case parent.Err() != nil:
		// The client left; nobody reads this, but the log should not call
		// it a server fault.
		return httpserver.Wrap(err, 499, "RequestCanceled", "The client closed the request.")
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return httpserver.Wrap(err, http.StatusGatewayTimeout, "UnknownError", timeoutMessage)
	}
	e := httpserver.Wrap(err, http.StatusServiceUnavailable, "serviceNotAvailable", unreachableMessage)
	e.Header = http.Header{"Retry-After": {"5"}}
	rt.log.Debug("hybrid: on-prem call failed", "step", step, "err", err)
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
