// Package autodiscover implements Autodiscover v2, the anonymous JSON
// endpoint that tells a client where a mailbox's protocol endpoints live,
// both as a server (the on-premises face, Handler) and as a client (the
// gateway's side of the hybrid route, Client).
//
// The model is Exchange's: a GET of
//
//	/autodiscover/autodiscover.json?Email=<smtp>&Protocol=<p>[&RedirectCount=n]
//	/autodiscover/autodiscover.json/v1.0/<smtp>?Protocol=<p>
//
// answers 200 {"Protocol":"<p>","Url":"<url>"}, or 400 {"ErrorCode":
// "InvalidProtocol",...} for a protocol the server does not serve, or a 302
// to another Autodiscover host that knows the mailbox (reference
// exchange-hybrid.md §2.1–2.3). The request is keyed by the SMTP address
// alone and carries no credentials, which is why the server routes on
// nothing but a validated address (the ProxyShell attacks abused a path
// confusion on exactly this endpoint) and why the client refuses redirects
// from https to http.
//
// The client follows redirects itself (up to MaxRedirects, carrying
// RedirectCount), caches answers per address and protocol, and collapses
// concurrent misses for the same key into one request. Its errors wrap
// ErrNotFound, ErrUnreachable or ErrRefused so that a caller can tell "this
// address has no mailbox there" from "the server could not be asked" from
// "the answer cannot be trusted".
package autodiscover
