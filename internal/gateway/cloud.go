// Package gateway assembles the cloud side of hybridgraph: the token
// service, the Graph front door over the cloud mailbox databases, the
// hybrid router that proxies on-premises mailboxes, and the mail flow
// (SMTP receiver and outbound queue). The demo builds it next to an
// on-prem server; `hybridgraph serve` builds it alone from a
// configuration file (Start).
package gateway

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/autodiscover"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
	"github.com/hybridgraph/hybridgraph/internal/graph"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/hybrid"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// DefaultProxyTimeout bounds one proxied call to an on-prem server.
const DefaultProxyTimeout = 30 * time.Second

// Cloud is what the cloud's HTTP surface is built from.
type Cloud struct {
	// Premises is the cloud side opened: directory, databases, engine.
	Premises *deploy.Premises
	// Issuer is the token service; its BaseURL is the public URL.
	Issuer *auth.Issuer
	// Connectors route mailboxes whose target address is on premises.
	Connectors []hybrid.Connector
	// ProxyTimeout bounds one proxied call; 0 means DefaultProxyTimeout.
	ProxyTimeout time.Duration
	// MaxTop overrides the largest $top accepted; 0 keeps Graph's.
	MaxTop int
	Log    *slog.Logger
}

// Handler is the cloud's HTTP surface: token service, Graph, health.
func (c *Cloud) Handler() http.Handler {
	graphHandler := c.graph().Handler()
	syncHandler := c.dirSync()
	issuer := c.Issuer.Handler()
	tokens := httpserver.Middleware(c.Log, httpserver.GraphEnvelope,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpserver.SetRoute(r.Context(), tokenRoute(r.URL.Path))
			issuer.ServeHTTP(w, r)
		}))
	notFound := httpserver.Middleware(c.Log, httpserver.GraphEnvelope,
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpserver.WriteError(w, r, httpserver.GraphEnvelope, graph.InvalidVersion())
		}))
	// Routing by prefix, not http.ServeMux, whose redirects for "." and ".."
	// segments are not Graph answers.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/healthz":
			healthz(w, r)
		case strings.HasPrefix(p, "/v1.0/"), strings.HasPrefix(p, "/beta/"):
			graphHandler.ServeHTTP(w, r)
		case p == dirsync.Path:
			syncHandler.ServeHTTP(w, r)
		case strings.Contains(p, "/oauth2/"), strings.Contains(p, "/.well-known/"),
			strings.Contains(p, "/discovery/"):
			tokens.ServeHTTP(w, r)
		default:
			notFound.ServeHTTP(w, r)
		}
	})
}

// graph builds the Graph front door and the router behind it.
func (c *Cloud) graph() *graph.Server {
	timeout := c.ProxyTimeout
	if timeout <= 0 {
		timeout = DefaultProxyTimeout
	}
	transport := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128,
		IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: timeout}
	router := hybrid.NewRouter(hybrid.Options{
		Connectors: c.Connectors,
		Discovery: &autodiscover.Client{
			HTTP: &http.Client{Timeout: timeout, Transport: transport}},
		Tokens:  c.Issuer,
		HTTP:    &http.Client{Transport: transport},
		Timeout: timeout,
		Log:     c.Log,
	})
	limits := odata.DefaultLimits
	if c.MaxTop > 0 {
		limits.MaxTop = c.MaxTop
	}
	return &graph.Server{
		Directory: c.Premises.Directory,
		Auth: auth.NewValidator(c.Issuer.Key, c.Issuer.IssuerURL(), c.Issuer.TenantID,
			[]string{auth.GraphResource, auth.GraphAppID}),
		Mail: &mailapi.Face{Dialect: schema.Graph, Engine: c.Premises.Engine,
			Limits: limits},
		Router:    router,
		PublicURL: c.Issuer.BaseURL,
		TenantID:  c.Issuer.TenantID,
		Domains:   c.Issuer.Domains,
		Log:       c.Log,
	}
}

// tokenRoute names a token service path for the access log, with the
// tenant (a GUID or a domain) left out.
func tokenRoute(p string) string {
	if strings.HasPrefix(p, "/.well-known/") {
		return p
	}
	_, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch rest {
	case "oauth2/v2.0/token", "discovery/v2.0/keys", "v2.0/.well-known/openid-configuration",
		"oauth2/v2.0/authorize", "oauth2/authorize":
		return "/{tenant}/" + rest
	}
	return "/{tenant}/unknown"
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
