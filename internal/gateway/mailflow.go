package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/mailflow"
)

// ServeSMTP receives mail for p's mailboxes on ln until the returned
// server is closed; wg counts the serving goroutine.
func ServeSMTP(wg *sync.WaitGroup, p *deploy.Premises, ln net.Listener,
	log *slog.Logger) *mailflow.Server {
	srv := mailflow.NewServer(ln.Addr().String(), p.Engine.DeliverTo, p.Engine.Accepts)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
			log.Error("smtp server stopped", "err", err)
		}
	}()
	return srv
}

// RunQueue relays the outbound mail of p's databases to smartHost until
// ctx ends; wg counts the worker. Several gateways may run the queue of
// one shared database: the store hands each due message to one of them.
func RunQueue(ctx context.Context, wg *sync.WaitGroup, p *deploy.Premises, smartHost string,
	log *slog.Logger) {
	q := mailflow.NewQueue(p.Stores, smartHost, mailflow.WithLogger(log))
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := q.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("mail queue stopped", "err", err)
		}
	}()
}
