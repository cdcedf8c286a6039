package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/directory"
	"github.com/hybridgraph/hybridgraph/internal/mailbox"
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
	SweepOutboxes(ctx, wg, p, log)
}

// SweepOutboxes runs the Outbox sweep of p (sweepOutboxes) until ctx
// ends; wg counts it. RunQueue starts it; a gateway without a queue
// starts it alone.
func SweepOutboxes(ctx context.Context, wg *sync.WaitGroup, p *deploy.Premises,
	log *slog.Logger) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		sweepOutboxes(ctx, p, log)
	}()
}

// OutboxSweepInterval is how often the mailboxes' Outboxes are swept for
// sends a stopped process left there (mailbox.ResumeSends).
const OutboxSweepInterval = time.Minute

// sweepOutboxes finishes, every OutboxSweepInterval until ctx ends, the
// sends left in the Outbox of p's mailboxes by a process stopped mid-send.
// Gateways sharing databases may sweep at once: a send finished twice
// writes nothing twice.
func sweepOutboxes(ctx context.Context, p *deploy.Premises, log *slog.Logger) {
	t := time.NewTicker(OutboxSweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		users, err := p.Directory.All(ctx)
		if err != nil {
			log.Error("outbox sweep", "err", err)
			continue
		}
		for _, u := range users {
			if u.Premises != p.Side || u.RecipientType != directory.UserMailbox {
				continue
			}
			if _, ok := p.Stores[u.Database]; !ok {
				continue
			}
			n, err := p.Engine.ResumeSends(ctx, u.Ref(), mailbox.ResumeAfter)
			if err != nil && ctx.Err() == nil {
				log.Error("outbox sweep", "user", u.UPN, "err", err)
			}
			if n > 0 {
				log.Warn("finished sends a stopped process left in the Outbox", "user", u.UPN,
					"sends", n)
			}
		}
	}
}
