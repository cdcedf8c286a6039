package autodiscover

import (
	"context"
	"encoding/json"
	"errors"

	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// fetch runs one discovery: the first request and the redirects after it.
func (c *Client) fetch(ctx context.Context, endpoint, email, protocol string) (string, error) {
	u, err := requestURL(endpoint, email, protocol)
	if err != nil {
		return "", err
	}
	secure := u.Scheme == "https"
	hc := c.httpClient()
	limit := orDefault(c.MaxRedirects, DefaultMaxRedirects)

	for redirects := 0; ; redirects++ {
		resp, err := c.get(ctx, hc, u)
		if err != nil {
			// Keep the cause but not the URL, which holds the address.
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return "", fmt.Errorf("%w: %s: %w", ErrUnreachable, u.Host, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
		resp.Body.Close()
		if err != nil {
			return "", fmt.Errorf("%w: %s: read answer: %w", ErrUnreachable, u.Host, err)
		}
		if len(body) > maxAnswerBytes {
			return "", fmt.Errorf("%w: %s: answer over %d bytes", ErrRefused, u.Host, maxAnswerBytes)
		}

		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if redirects >= limit {
				return "", fmt.Errorf("%w: more than %d redirects", ErrRefused, limit)
			}
			next, err := redirectURL(u, resp.Header.Get("Location"), email, protocol, redirects+1)
			if err != nil {
				return "", err
			}
			// MS-OXDISCO asks clients to distrust an http redirect; a
			// gateway has no user to ask, so it refuses the downgrade.
			if secure && next.Scheme != "https" {
				return "", fmt.Errorf("%w: redirect from https to %s refused", ErrRefused, next.Scheme)
			}
			secure = secure || next.Scheme == "https"
			u = next
		case http.StatusOK:
			return answerURL(body, protocol, secure)
		default:
			return "", statusError(u, resp.StatusCode, body)
		}
	}
}

func (c *Client) get(ctx context.Context, hc *http.Client, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	c.mu.Lock()
	c.requests++
	c.mu.Unlock()
	return hc.Do(req)
}

// httpClient returns a copy of c.HTTP that leaves redirects to fetch, which
// must count them, carry RedirectCount and check the scheme of each hop.
func (c *Client) httpClient() *http.Client {
	hc := &http.Client{Timeout: DefaultTimeout}
	if c.HTTP != nil {
		cp := *c.HTTP
		hc = &cp
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return hc
}

// requestURL builds the first request URL from a connector's endpoint.
func requestURL(endpoint, email, protocol string) (*url.URL, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: endpoint %q is not an http(s) URL", ErrRefused, endpoint)
	}
	p := strings.TrimRight(u.Path, "/")
	lp := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lp, "/autodiscover/autodiscover.json"):
	case strings.HasSuffix(lp, "/autodiscover/autodiscover.svc"),
		strings.HasSuffix(lp, "/autodiscover/autodiscover.xml"):
		// IOCs hold the SOAP (.svc) or POX (.xml) URL; v2 lives beside it.
		p = p[:len(p)-len("autodiscover.svc")] + "autodiscover.json"
	default:
		p += Path
	}
	u = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p}
	setQuery(u, email, protocol, -1)
	return u, nil
}

// redirectURL resolves a Location against the current URL. A Location that
// names no address or protocol gets ours; RedirectCount is always ours.
func redirectURL(cur *url.URL, loc, email, protocol string, count int) (*url.URL, error) {
	if loc == "" {
		return nil, fmt.Errorf("%w: redirect without Location", ErrRefused)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, fmt.Errorf("%w: bad Location: %w", ErrRefused, err)
	}
	next := cur.ResolveReference(ref)
	if (next.Scheme != "http" && next.Scheme != "https") || next.Host == "" {
		return nil, fmt.Errorf("%w: redirect to a non-http URL", ErrRefused)
	}
	next.Fragment = ""
	q := next.Query()
	if hasParam(q, "email") || strings.Contains(strings.ToLower(next.Path), "/v1.0/") {
		email = ""
	}
	if hasParam(q, "protocol") {
		protocol = ""
	}
	setQuery(next, email, protocol, count)
	return next, nil
}

// setQuery sets Email and Protocol where given (non-empty) and
// RedirectCount where count ≥ 0, keeping other parameters.
func setQuery(u *url.URL, email, protocol string, count int) {
	q := u.Query()
	for k := range q {
		lk := strings.ToLower(k)
		if lk == "redirectcount" && count >= 0 || lk == "email" && email != "" ||
			lk == "protocol" && protocol != "" {
			delete(q, k)
		}
	}
	if email != "" {
		q.Set("Email", email)
	}
	if protocol != "" {
		q.Set("Protocol", protocol)
	}
	if count >= 0 {
		q.Set("RedirectCount", strconv.Itoa(count))
	}
	u.RawQuery = q.Encode()
}

func hasParam(q url.Values, name string) bool {
	for k := range q {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// answerURL checks a 200 body and returns its Url. After an https hop the
// URL must be https too: the caller sends bearer tokens there.
func answerURL(body []byte, protocol string, secure bool) (string, error) {
	var a Answer
	if err := json.Unmarshal(body, &a); err != nil {
		return "", fmt.Errorf("%w: malformed answer: %w", ErrRefused, err)
	}
	if !strings.EqualFold(a.Protocol, protocol) {
		return "", fmt.Errorf("%w: answer for protocol %q, asked %q", ErrRefused, a.Protocol, protocol)
	}
	u, err := url.Parse(a.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: answer URL is not an http(s) URL", ErrRefused)
	}
	if secure && u.Scheme != "https" {
		return "", fmt.Errorf("%w: http endpoint from an https service refused", ErrRefused)
	}
	return a.URL, nil
}

// statusError classifies a failure answer.
func statusError(u *url.URL, status int, body []byte) error {
	var e errorBody
	_ = json.Unmarshal(body, &e) // the code is a detail; the status decides
	detail := fmt.Sprintf("%s answered %d", u.Host, status)
	if e.ErrorCode != "" {
		detail += " " + e.ErrorCode
	}
	switch {
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, detail)
	case status >= 500:
		return fmt.Errorf("%w: %s", ErrUnreachable, detail)
	}
	return fmt.Errorf("%w: %s", ErrRefused, detail)
}
