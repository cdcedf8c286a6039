package onprem

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hybridgraph/hybridgraph/internal/autodiscover"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/httpserver"
	"github.com/hybridgraph/hybridgraph/internal/outlookrest"
)

// Handler is the whole on-prem HTTP surface: /healthz, Autodiscover v2,
// Outlook REST v2.0 under /api and the admin topology, with Exchange's version headers on
// every answer.
type Handler struct {
	Topology  *Topology
	Directory *directory.Directory
	REST      *outlookrest.Server
	// PublicURL is the server's base URL as the cloud reaches it.
	PublicURL string
	Log       *slog.Logger
}

// ServesREST reports whether u's mailbox database is on a server with the
// REST endpoint.
func (h *Handler) ServesREST(u directory.User) bool {
	srv, ok := h.Topology.DatabaseServer(u.Database)
	if !ok {
		return false
	}
	b, err := ParseBuild(srv.Build)
	return err == nil && b.ServesREST()
}

// restURL answers Autodiscover for on-prem mailboxes: every mailbox of the
// organisation is discovered, as Exchange does; whether REST then works is
// the mailbox server's answer (MailboxNotEnabledForRESTAPI).
func (h *Handler) restURL(ctx context.Context, email string) (string, bool) {
	u, err := h.Directory.Lookup(ctx, email)
	if err != nil {
		if !errors.Is(err, directory.ErrNotFound) {
			h.Log.Error("autodiscover lookup", "err", err)
		}
		return "", false
	}
	if u.Premises != directory.OnPrem {
		return "", false
	}
	return h.PublicURL + "/api", true
}

// HTTP returns the handler to serve.
func (h *Handler) HTTP() http.Handler {
	ad := routed("/autodiscover/autodiscover.json", autodiscover.Handler(h.restURL))
	rest := h.REST.Handler()
	admin := routed(AdminTopologyPath,
		httpserver.Handle(httpserver.RESTEnvelope, h.adminTopology))
	// Routing by prefix, not http.ServeMux: ServeMux answers paths with "."
	// or ".." segments with a redirect, which the gateway would pass on.
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == "/healthz":
			httpserver.SetRoute(r.Context(), "/healthz")
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write([]byte("ok\n"))
		case strings.HasPrefix(p, "/autodiscover/"):
			ad.ServeHTTP(w, r)
		case p == AdminTopologyPath:
			admin.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/api/"):
			rest.ServeHTTP(w, r)
		default:
			httpserver.WriteError(w, r, httpserver.RESTEnvelope, httpserver.Errorf(
				http.StatusNotFound, "ErrorInvalidUrl", "The URL is not served by this server."))
		}
	})
	fe, _ := h.Topology.Server(h.Topology.FrontEnd)
	inner := httpserver.Middleware(h.Log, httpserver.RESTEnvelope, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// exchange-hybrid.md §4: the front end names itself and its build.
		w.Header().Set("X-FEServer", strings.ToUpper(fe.Name))
		w.Header().Set("X-OWA-Version", fe.Build)
		inner.ServeHTTP(w, r)
	})
}

func routed(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpserver.SetRoute(r.Context(), route)
		h.ServeHTTP(w, r)
	})
}
