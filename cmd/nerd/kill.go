package main

import (
	"context"
	"fmt"
	"syscall"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

func newKillCommand(app *cli.App) *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKill(cmd.Context(), app, signal, args)
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "Signal to send to the container")
	return cmd
}

func runKill(ctx context.Context, app *cli.App, signal string, refs []string) error {
	// Docker checks the signal in the daemon: a plain error, exit 1.
	sig, err := engine.ParseSignal(signal)
	if err != nil {
		return err
	}
	return forEachContainer(app, refs, func(eng *engine.Engine, c *engine.Container) error {
		if err := eng.Kill(ctx, c, syscall.Signal(sig)); err != nil {
			return err
		}
		fmt.Fprintln(app.Out, containerArg(refs, c))
		return nil
	})
}
