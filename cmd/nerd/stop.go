package main

import (
	"context"
	"fmt"
	"syscall"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type stopOptions struct {
	signal     string
	timeout    int
	timeoutSet bool
	containers []string
}

func newStopCommand(app *cli.App) *cobra.Command {
	return newStopLikeCommand(app, "stop", "Stop one or more running containers", false)
}

func newRestartCommand(app *cli.App) *cobra.Command {
	return newStopLikeCommand(app, "restart", "Restart one or more containers", true)
}

func newStopLikeCommand(app *cli.App, verb, short string, restart bool) *cobra.Command {
	var opts stopOptions
	cmd := &cobra.Command{
		Use:   verb + " [OPTIONS] CONTAINER [CONTAINER...]",
		Short: short,
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.containers = args
			opts.timeoutSet = cmd.Flags().Changed("timeout") || cmd.Flags().Changed("time")
			return runStop(cmd.Context(), app, &opts, restart)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.signal, "signal", "s", "", "Signal to send to the container")
	f.IntVarP(&opts.timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	f.IntVar(&opts.timeout, "time", 0, "Seconds to wait before killing the container (deprecated: use --timeout)")
	_ = f.MarkHidden("time")
	return cmd
}

func runStop(ctx context.Context, app *cli.App, opts *stopOptions, restart bool) error {
	sig, err := engine.ParseSignal(opts.signal)
	if err != nil {
		return cli.FlagError(err)
	}
	var timeout *int
	if opts.timeoutSet {
		timeout = &opts.timeout
	}
	return forEachContainer(app, opts.containers, func(eng *engine.Engine, c *engine.Container) error {
		if err := eng.Stop(ctx, c, timeout, syscall.Signal(sig)); err != nil {
			return fmt.Errorf("cannot stop container: %s: %w", containerArg(opts.containers, c), err)
		}
		if restart {
			if err := eng.Start(ctx, c); err != nil {
				return fmt.Errorf("cannot restart container %s: %w", containerArg(opts.containers, c), err)
			}
		}
		fmt.Fprintln(app.Out, containerArg(opts.containers, c))
		return nil
	})
}
