package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type startOptions struct {
	attach      bool
	interactive bool
	detachKeys  string
	containers  []string
}

func newStartCommand(app *cli.App) *cobra.Command {
	var opts startOptions
	cmd := &cobra.Command{
		Use:   "start [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.containers = args
			return runStart(cmd.Context(), app, &opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	cmd.Flags().BoolVarP(&opts.interactive, "interactive", "i", false, "Attach container's STDIN")
	cmd.Flags().StringVar(&opts.detachKeys, "detach-keys", "", "Override the key sequence for detaching a container")
	return cmd
}

func runStart(ctx context.Context, app *cli.App, opts *startOptions) error {
	if opts.attach || opts.interactive {
		if len(opts.containers) > 1 {
			return errors.New("you cannot start and attach multiple containers at once")
		}
		eng, c, err := openContainer(app, opts.containers[0])
		if err != nil {
			return err
		}
		if err := eng.StartAttached(ctx, c); err != nil {
			return runError(err)
		}
		code, err := attachAndWait(ctx, app, eng, c, streamOptions{
			stdin: opts.interactive && c.Config.OpenStdin, tty: c.Config.Tty, sigProxy: true, detachKeys: opts.detachKeys,
		})
		return sessionResult(code, err)
	}
	return forEachContainer(app, opts.containers, func(eng *engine.Engine, c *engine.Container) error {
		if err := eng.Start(ctx, c); err != nil {
			var se *engine.StartError
			if errors.As(err, &se) {
				return fmt.Errorf("failed to start container %s: %s", c.ID[:12], se.Msg)
			}
			return err
		}
		fmt.Fprintln(app.Out, containerArg(opts.containers, c))
		return nil
	})
}

// containerArg echoes the reference the user typed for c (Docker prints
// back each argument as given).
func containerArg(args []string, c *engine.Container) string {
	for _, a := range args {
		if a == c.ID || a == c.Name || a == "/"+c.Name || (len(a) < len(c.ID) && c.ID[:len(a)] == a) {
			return a
		}
	}
	return c.Name
}
