package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/container"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type runOptions struct {
	create     createOptions
	detach     bool
	sigProxy   bool
	detachKeys string
}

func newRunCommand(app *cli.App) *cobra.Command {
	var opts runOptions
	cmd := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.create.image = args[0]
			opts.create.args = args[1:]
			return runRun(cmd.Context(), app, cmd, &opts)
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&opts.detach, "detach", "d", false, "Run container in background and print container ID")
	f.BoolVar(&opts.sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	f.StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	addCreateFlags(f, &opts.create)
	return cmd
}

func runRun(ctx context.Context, app *cli.App, cmd *cobra.Command, opts *runOptions) error {
	co := &opts.create
	if opts.detach && len(co.attach) > 0 {
		return cli.FlagError(errors.New("conflicting options: cannot specify both --attach and --detach"))
	}
	// Validate -a before anything is created.
	streams, err := attachStreams(co)
	if err != nil {
		return err
	}
	eng, err := app.Engine()
	if err != nil {
		return runError(err)
	}
	co.detach = opts.detach
	c, err := createContainer(ctx, app, eng, cmd, co)
	if err != nil {
		return runError(err)
	}
	if opts.detach {
		if err := eng.Start(ctx, c); err != nil {
			return runError(err)
		}
		fmt.Fprintln(app.Out, c.ID)
		return nil
	}
	// Foreground: the monitor holds the process until we attach, so no
	// early output is lost.
	if err := eng.StartAttached(ctx, c); err != nil {
		return runError(err)
	}
	code, err := attachAndWait(ctx, app, eng, c, streamOptions{
		stdin:      streams.stdin,
		noStdout:   streams.noStdout,
		noStderr:   streams.noStderr,
		tty:        co.tty,
		sigProxy:   opts.sigProxy,
		detachKeys: opts.detachKeys,
	})
	if errors.Is(err, errDetached) {
		return nil
	}
	if err != nil {
		return runError(err)
	}
	if co.rm {
		// --rm: the monitor removes the container; wait so a script that
		// runs `nerd ps -a` right after never sees it.
		eng.WaitRemoved(ctx, c)
	}
	if code != 0 {
		return &cli.StatusError{Code: code}
	}
	return nil
}

// attachStreams applies -a/--attach: without it, stdout and stderr (and
// stdin with -i); with it, exactly the named streams.
func attachStreams(co *createOptions) (streamOptions, error) {
	so := streamOptions{stdin: co.interactive}
	if len(co.attach) == 0 {
		return so, nil
	}
	so.noStdout, so.noStderr = true, true
	for _, a := range co.attach {
		switch strings.ToLower(a) {
		case "stdin":
			so.stdin = true
		case "stdout":
			so.noStdout = false
		case "stderr":
			so.noStderr = false
		default:
			return so, cli.FlagError(fmt.Errorf("invalid argument %q for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR", a))
		}
	}
	return so, nil
}

// attachAndWait streams the container and returns its exit code.
func attachAndWait(ctx context.Context, app *cli.App, eng *engine.Engine, c *engine.Container, so streamOptions) (int, error) {
	cl, err := container.Dial(c.Paths)
	if err != nil {
		return 0, err
	}
	s, err := cl.Attach(ctx, container.AttachOptions{Stdin: so.stdin, Stdout: !so.noStdout, Stderr: !so.noStderr})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	streamCtx := ctx
	if so.sigProxy && !so.tty {
		// Ctrl-C goes to the container, not to us.
		streamCtx = context.WithoutCancel(ctx)
	}
	return streamContainer(streamCtx, app, eng, c, s, so)
}

// runError maps engine errors to Docker's run exit codes: 125 for nerd's own
// failures, 126/127 when the command cannot be invoked or found.
func runError(err error) error {
	var se *engine.StartError
	if errors.As(err, &se) {
		return &cli.StatusError{Status: se.Msg, Code: se.Code}
	}
	var st *cli.StatusError
	if errors.As(err, &st) || errors.Is(err, context.Canceled) {
		// A cancel is the user's signal: main turns it into 128+n.
		return err
	}
	return &cli.StatusError{Status: err.Error(), Code: 125}
}

// writeCidfile writes the container ID where --cidfile asks; like Docker it
// refuses an existing file.
func writeCidfile(path, id string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("container ID file found, make sure the other container isn't running or delete %s", path)
		}
		return fmt.Errorf("failed to create the container ID file: %w", err)
	}
	defer f.Close()
	_, err = f.WriteString(strings.TrimSpace(id))
	return err
}
