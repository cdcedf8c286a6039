package demo

import (
	"context"
	"net/http"
	"sync"

	"github.com/hybridgraph/hybridgraph/internal/deploy"
	"github.com/hybridgraph/hybridgraph/internal/dirsync"
)

// dirSync starts the on-prem server's directory-sync loop when o asks for
// one: it pushes o.DirSyncSource (by default the built-in on-prem
// directory) to the cloud's intake at once and then every interval, as
// the sync agent app. The returned channel closes after the first run.
func (s *system) dirSync(ctx context.Context, wg *sync.WaitGroup, l layout,
	d *deploy.Deployment, o Options) (<-chan struct{}, error) {
	if o.DirSyncInterval <= 0 {
		return nil, nil
	}
	app, err := dirsync.Agent(l.KeyDir())
	if err != nil {
		return nil, err
	}
	src := o.DirSyncSource
	if src == nil {
		src = dirsync.DirectorySource{Directory: s.prem.Directory}
	}
	loop := &dirsync.Loop{
		Source:   src,
		Interval: o.DirSyncInterval,
		Timeout:  dirsync.DefaultRunTimeout,
		Client: &dirsync.Client{BaseURL: d.CloudURL, HTTP: &http.Client{},
			Token: dirsync.AgentToken(s.issuer, app), DeleteThreshold: o.DeleteThreshold},
		Log: s.log, // the loop names its component
	}
	ready := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		loop.Run(ctx, ready)
	}()
	return ready, nil
}
