// Command hybridgraph serves the Microsoft Graph v1.0 Mail API for an
// organisation whose mailboxes live in the cloud and on premises.
//
// Subcommands:
//
//	demo     run the cloud side and an on-prem server on loopback, seeded on first start
//	serve    run the cloud side alone over the configured mailbox databases
//	token    print a delegated access token for a user of a data directory
//	import   import .eml files, maildirs and mbox files into a mailbox
//	check    check a hybrid deployment's readiness from outside
//	sync     push the on-prem directory to the cloud once
//	directory  list, add and remove users of the built-in on-prem directory
//	move-mailbox  move a mailbox to another database or premises, online
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// DefaultData is the data directory used when --data is not given.
const DefaultData = "./hybridgraph-data"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"demo", "run the cloud gateway and an on-prem server on loopback", runDemo},
	{"serve", "run the cloud gateway alone from a configuration file", runServe},
	{"token", "print a delegated access token for a user", runToken},
	{"import", "import .eml files, maildirs and mbox files into a mailbox", runImport},
	{"check", "check a hybrid deployment's readiness from outside", runCheck},
	{"sync", "push the on-prem directory to the cloud once", runSync},
	{"directory", "list, add and remove users of the built-in on-prem directory",
		runDirectory},
	{"move-mailbox", "move a mailbox to another database, online", runMoveMailbox},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		var status exitStatus
		if errors.As(err, &status) {
			return int(status)
		}
		fmt.Fprintf(stderr, "hybridgraph %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(stderr, "hybridgraph: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hybridgraph <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hybridgraph <command> -h' for a command's flags.")
}

// errUsage marks a command-line mistake already reported by the flag set.
var errUsage = errors.New("usage")

// parse parses args with fs, which reports its own errors on stderr.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// newLogger logs structured text at level to w.
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
