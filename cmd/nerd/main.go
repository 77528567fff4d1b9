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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCommand(app)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
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
