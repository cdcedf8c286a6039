package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/auth"
	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/hybrid"
	"github.com/hybridgraph/hybridgraph/internal/mailflow"
	"github.com/hybridgraph/hybridgraph/internal/store"
	"github.com/hybridgraph/hybridgraph/internal/store/postgres"
	"github.com/hybridgraph/hybridgraph/internal/store/sqlite"
)

// ShutdownTimeout bounds a graceful stop.
const ShutdownTimeout = 10 * time.Second

// Server is a running gateway started from a configuration.
type Server struct {
	cloud  *deploy.Premises
	issuer *auth.Issuer
	http   *http.Server
	ln     net.Listener
	smtp   *mailflow.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	log    *slog.Logger
	// unlock releases the data directory, claimed when a database is
	// SQLite; nil otherwise.
	unlock func() error
}

// Listeners lets a caller (a test) pass listeners already open; a nil one
// is opened on the configured address.
type Listeners struct {
	HTTP, SMTP net.Listener
}

// Start opens the configured databases and serves the cloud side until
// Stop. Several gateways may be started over the same PostgreSQL
// databases and data directory contents: they keep no state of their own.
func Start(ctx context.Context, c *config.Config, ls Listeners, log *slog.Logger) (*Server,
	error) {
	l := deploy.Layout{Dir: c.Data.Directory, Stores: Opener(ctx, c)}
	d, err := l.Load()
	if err != nil {
		return nil, err
	}
	s := &Server{log: log}
	names := make([]string, len(c.Databases))
	for i, db := range c.Databases {
		names[i] = db.Name
		// A SQLite database serves one process (one file, one gateway, one
		// mail queue): claim the data directory as the demo does, so that
		// a second serve or a demo on it is refused.
		if db.Driver == config.SQLite && s.unlock == nil {
			if s.unlock, err = l.Lock(); err != nil {
				return nil, fmt.Errorf("database %s is SQLite: %w", db.Name, err)
			}
		}
	}
	fail := func(err error) (*Server, error) {
		if s.unlock != nil {
			s.unlock()
		}
		return nil, err
	}
	if s.cloud, err = l.Open(directory.Cloud, names); err != nil {
		return fail(err)
	}
	if err := s.checkDatabases(ctx); err != nil {
		s.cloud.Close()
		return fail(err)
	}
	keys := c.Data.Keys
	if keys == "" {
		keys = l.KeyDir()
	}
	key, err := auth.LoadOrCreateKey(keys)
	if err != nil {
		s.cloud.Close()
		return fail(err)
	}
	s.issuer = &auth.Issuer{Key: key, TenantID: d.TenantID, Domains: []string{d.Domain},
		BaseURL: c.PublicURL, Apps: auth.NewAppRegistry(keys)}
	if err := s.listen(c, ls); err != nil {
		s.cloud.Close()
		return fail(err)
	}
	s.serve(c)
	return s, nil
}

// Opener opens the mailbox databases named in c: PostgreSQL ones with
// postgres.Open, SQLite ones at their path or in the data directory.
// Databases of the other premises (the demo's seeding) stay SQLite files.
func Opener(ctx context.Context, c *config.Config) deploy.StoreOpener {
	l := deploy.Layout{Dir: c.Data.Directory}
	return func(side directory.Premises, name string) (store.Store, error) {
		if side != directory.Cloud {
			return sqlite.Open(l.Database(side, name))
		}
		for _, db := range c.Databases {
			if db.Name != name {
				continue
			}
			if db.Driver == config.Postgres {
				return postgres.Open(ctx, db.DSN)
			}
			path := db.Path
			if path == "" {
				path = l.Database(side, name)
			}
			return sqlite.Open(filepath.Clean(path))
		}
		return nil, fmt.Errorf("database %s is not in the configuration", name)
	}
}

// checkDatabases refuses to start when a mailbox of the directory lives in
// a database the configuration does not list: its owner would otherwise
// get errors at every call instead of the operator one at start.
func (s *Server) checkDatabases(ctx context.Context) error {
	missing, err := s.cloud.Unopened(ctx)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("databases: the directory's mailboxes live in databases "+
			"the configuration does not list: %s", strings.Join(missing, ", "))
	}
	return nil
}

func (s *Server) listen(c *config.Config, ls Listeners) error {
	var err error
	if ls.HTTP == nil {
		if ls.HTTP, err = net.Listen("tcp", c.Listen); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	s.ln = ls.HTTP
	if c.SMTP.Listen == "" {
		return nil
	}
	if ls.SMTP == nil {
		if ls.SMTP, err = net.Listen("tcp", c.SMTP.Listen); err != nil {
			ls.HTTP.Close()
			return fmt.Errorf("smtp.listen: %w", err)
		}
	}
	s.smtp = ServeSMTP(&s.wg, s.cloud, ls.SMTP, s.log)
	return nil
}

func (s *Server) serve(c *config.Config) {
	connectors := make([]hybrid.Connector, len(c.Connectors))
	for i, cn := range c.Connectors {
		connectors[i] = hybrid.Connector{Name: cn.Name,
			TargetAddressDomains: cn.TargetAddressDomains,
			DiscoveryEndpoint:    cn.DiscoveryEndpoint, Enabled: cn.On()}
	}
	h := (&Cloud{Premises: s.cloud, Issuer: s.issuer, Connectors: connectors,
		ProxyTimeout: c.Limits.ProxyTimeout, MaxTop: c.Limits.MaxTop, Log: s.log}).Handler()
	s.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "addr", s.ln.Addr().String(), "err", err)
		}
	}()
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if c.SMTP.SmartHost != "" {
		RunQueue(wctx, &s.wg, s.cloud, c.SMTP.SmartHost, s.log)
	} else {
		// No queue, but sends cut short still need finishing.
		SweepOutboxes(wctx, &s.wg, s.cloud, s.log)
	}
}

// Addr is the address the HTTP server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Issuer is the token service, for minting tokens in-process.
func (s *Server) Issuer() *auth.Issuer { return s.issuer }

// Directory is the cloud directory the gateway serves.
func (s *Server) Directory() *directory.Directory { return s.cloud.Directory }

// Stop shuts the servers down gracefully, then closes the databases.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	errs := []error{s.http.Shutdown(ctx)}
	if s.smtp != nil {
		errs = append(errs, s.smtp.Close())
	}
	s.cancel()
	errs = append(errs, WaitWorkers(ctx, &s.wg), s.cloud.Close())
	if s.unlock != nil {
		errs = append(errs, s.unlock())
	}
	return errors.Join(errs...)
}

// WaitWorkers waits for wg until ctx ends: a worker that ignores its stop
// signal must not keep the process up.
func WaitWorkers(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("workers still running after the shutdown timeout: %w", ctx.Err())
	}
}
