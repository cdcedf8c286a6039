package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
	"github.com/hybridgraph/hybridgraph/internal/hybrid"
	"github.com/hybridgraph/hybridgraph/internal/mailapi"
	"github.com/hybridgraph/hybridgraph/internal/mailflow"
	"github.com/hybridgraph/hybridgraph/internal/odata"
	"github.com/hybridgraph/hybridgraph/internal/onprem"
	"github.com/hybridgraph/hybridgraph/internal/outlookrest"
	"github.com/hybridgraph/hybridgraph/internal/schema"
)

// DefaultProxyTimeout bounds one proxied call to the on-prem server.
const DefaultProxyTimeout = 30 * time.Second

// system is the running demo: both sides, their servers and workers.
type system struct {
	cloud, prem *deploy.Premises
	issuer      *auth.Issuer
	servers     []*http.Server
	smtp        []*mailflow.Server
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	log         *slog.Logger
	// synced closes after the sync loop's first run; nil without a loop.
	synced <-chan struct{}
	// topo is the on-prem topology the on-prem server was started with.
	topo *onprem.Topology
	// onPremPublicURL is Options.OnPremPublicURL.
	onPremPublicURL string
}

// allOpened refuses to start when a mailbox of either directory lives in a
// database the demo does not open (moved to a serve configuration's
// PostgreSQL database): its owner would get errors at every call.
func (s *system) allOpened(ctx context.Context) error {
	var missing []string
	for _, p := range []*deploy.Premises{s.cloud, s.prem} {
		m, err := p.Unopened(ctx)
		if err != nil {
			return err
		}
		missing = append(missing, m...)
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("mailboxes live in databases the demo does not open: %s; serve them "+
		"with 'hybridgraph serve --config FILE' (which lists them), or move them back with "+
		"'hybridgraph move-mailbox --config FILE --user UPN --to %s'",
		strings.Join(missing, ", "), CloudDB)
}

// start opens both premises and serves them on the listeners.
func start(ctx context.Context, l layout, d *deploy.Deployment, ls *listeners,
	o Options) (*system, error) {
	s := &system{log: o.Log, onPremPublicURL: strings.TrimSuffix(o.OnPremPublicURL, "/")}
	var err error
	if s.cloud, err = l.Open(directory.Cloud, d.CloudDatabases); err != nil {
		return nil, err
	}
	if s.prem, err = l.Open(directory.OnPrem, d.OnPremDatabases); err != nil {
		s.cloud.Close()
		return nil, err
	}
	if err := s.allOpened(ctx); err != nil {
		s.closeStores()
		return nil, err
	}
	key, err := auth.LoadOrCreateKey(l.KeyDir())
	if err != nil {
		s.closeStores()
		return nil, err
	}
	s.issuer = &auth.Issuer{Key: key, TenantID: d.TenantID, Domains: []string{d.Domain},
		BaseURL: d.CloudURL, Apps: auth.NewAppRegistry(l.KeyDir())}

	cloudHandler := s.cloudHandler(d, o)
	s.serve(cloudHandler, ls.cloud)

	premHandler, err := s.onPremHandler(ctx, l, d)
	if err != nil {
		s.stop()
		return nil, err
	}
	s.serve(premHandler, ls.onprem)

	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.mailFlow(wctx, d, ls)
	if s.synced, err = s.dirSync(wctx, &s.wg, l, d, o); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *system) serve(h http.Handler, ln net.Listener) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		serveHTTP(srv, ln, s.log)
	}()
}

// cloudHandler is the cloud's HTTP surface: token service, Graph, health.
func (s *system) cloudHandler(d *deploy.Deployment, o Options) http.Handler {
	return (&gateway.Cloud{
		Premises: s.cloud,
		Issuer:   s.issuer,
		Connectors: []hybrid.Connector{{
			Name:                 "OnPremisesConnector",
			TargetAddressDomains: []string{d.Domain},
			DiscoveryEndpoint:    d.OnPremURL + "/autodiscover/autodiscover.svc",
			Enabled:              true,
		}},
		ProxyTimeout: o.ProxyTimeout,
		Log:          s.log,
	}).Handler()
}

// onPremHandler is the on-prem server: it trusts the cloud's token
// service through its published JWK Set, as Exchange trusts its auth server.
func (s *system) onPremHandler(ctx context.Context, l layout, d *deploy.Deployment) (
	http.Handler, error) {
	topo, err := onprem.LoadTopology(l.TopologyFile())
	if err != nil {
		return nil, err
	}
	s.topo = topo
	public := d.OnPremURL
	if s.onPremPublicURL != "" {
		public = s.onPremPublicURL
	}
	u, err := url.Parse(public)
	if err != nil {
		return nil, fmt.Errorf("on-prem URL: %w", err)
	}
	s2s, err := auth.NewS2SValidator(ctx, s.issuer.JWKSURL(), s.issuer.IssuerURL(),
		d.TenantID, u.Hostname())
	if err != nil {
		return nil, fmt.Errorf("on-prem token validation: %w", err)
	}
	h := &onprem.Handler{Topology: topo, Directory: s.prem.Directory, PublicURL: public,
		Log: s.log}
	h.REST = &outlookrest.Server{
		Directory: s.prem.Directory,
		Auth:      s2s,
		Mail: &mailapi.Face{Dialect: schema.REST, Engine: s.prem.Engine,
			Limits: odata.DefaultLimits},
		ServesREST: h.ServesREST,
		PublicURL:  public,
		Log:        s.log,
	}
	return h.HTTP(), nil
}

// mailFlow starts each side's SMTP receiver and its queue, which delivers
// to the other side's receiver.
func (s *system) mailFlow(ctx context.Context, d *deploy.Deployment, ls *listeners) {
	for _, side := range []struct {
		p         *deploy.Premises
		ln        net.Listener
		smartHost string
	}{
		{s.cloud, ls.cloudSMTP, d.OnPremSMTP},
		{s.prem, ls.onpremSMTP, d.CloudSMTP},
	} {
		s.smtp = append(s.smtp, gateway.ServeSMTP(&s.wg, side.p, side.ln, s.log))
		gateway.RunQueue(ctx, &s.wg, side.p, side.smartHost, s.log)
	}
}

// stop shuts the servers down gracefully, then closes the databases.
func (s *system) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	for _, srv := range s.smtp {
		errs = append(errs, srv.Close())
	}
	if s.cancel != nil {
		s.cancel()
	}
	errs = append(errs, gateway.WaitWorkers(ctx, &s.wg), s.closeStores())
	return errors.Join(errs...)
}

func (s *system) closeStores() error {
	var errs []error
	if s.cloud != nil {
		errs = append(errs, s.cloud.Close())
	}
	if s.prem != nil {
		errs = append(errs, s.prem.Close())
	}
	return errors.Join(errs...)
}
