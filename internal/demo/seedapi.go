package demo

import (
	"context"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
)

// Seed creates the demo organisation in l's empty data directory and saves
// d, for a gateway started from a configuration rather than by Run (and
// for its tests). l.Stores decides where each mailbox database lives, so
// the cloud's may be PostgreSQL. d's URLs and SMTP addresses are kept as
// given.
func Seed(ctx context.Context, l deploy.Layout, d *deploy.Deployment) error {
	if err := seed(ctx, layout{l}, d); err != nil {
		return err
	}
	return l.Save(d)
}
