package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hybridgraph/hybridgraph/internal/config"
	"github.com/hybridgraph/hybridgraph/internal/gateway"
)

// runServe runs the cloud side alone, as configured, until ctx ends.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "configuration `file` (YAML; see docs/serve.example.yaml)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *path == "" {
		fmt.Fprintln(stderr, "hybridgraph serve: --config is required")
		return errUsage
	}
	log, err := newLogger(stderr, *level)
	if err != nil {
		return err
	}
	c, err := config.Load(*path)
	if err != nil {
		return err
	}
	srv, err := gateway.Start(ctx, c, gateway.Listeners{}, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "hybridgraph serve: Graph at %s/v1.0 (listening on %s)\n",
		c.PublicURL, srv.Addr())
	<-ctx.Done()
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}
