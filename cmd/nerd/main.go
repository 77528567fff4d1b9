// Command nerd is a Docker-compatible container CLI whose engine runs
// in-process: there is no daemon.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/nerd-project/nerd/internal/cli"
)

func main() {
	os.Exit(run())
}

func run() int {
	name := filepath.Base(os.Args[0])
	if name != "docker" {
		name = "nerd"
	}
	app := cli.NewApp(name)
	// SIGINT and SIGTERM cancel the command's context; the first one is
	// kept for the exit status.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var caught atomic.Int32
	go func() {
		if s, ok := (<-sigs).(syscall.Signal); ok {
			caught.Store(int32(s))
		}
		cancel()
	}()

	root := newRootCommand(app)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	if sig := caught.Load(); sig != 0 && errors.Is(err, context.Canceled) {
		// Ended by the user's signal: like the Docker CLI, no error
		// message, and the status of a process that signal killed.
		return 128 + int(sig)
	}
	var se *cli.StatusError
	if errors.As(err, &se) && se.Status == "" {
		// The command printed what it had to say; only the code is left.
		return se.Code
	}
	msg := err.Error()
	fmt.Fprintln(app.Err, errorLine(msg))
	if cli.IsUsage(err) && !strings.Contains(msg, "--help") {
		fmt.Fprintf(app.Err, "See '%s --help'.\n", commandPath(cmd, app.Name))
	}
	return cli.ExitCode(err)
}

func errorLine(msg string) string {
	if strings.HasPrefix(msg, "Error") || strings.Contains(msg, "is not a nerd command") || strings.Contains(msg, "is not a docker command") {
		return msg
	}
	return "Error: " + msg
}
