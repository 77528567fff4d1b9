package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

func newWaitCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachContainer(app, args, func(eng *engine.Engine, c *engine.Container) error {
				code, err := eng.Wait(cmd.Context(), c)
				if err != nil {
					return err
				}
				fmt.Fprintln(app.Out, code)
				return nil
			})
		},
	}
}

func newRenameCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, c, err := openContainer(app, args[0])
			if err != nil {
				return err
			}
			return eng.Rename(c, args[1])
		},
	}
}

func newPauseCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachContainer(app, args, func(eng *engine.Engine, c *engine.Container) error {
				if err := eng.Pause(cmd.Context(), c); err != nil {
					return err
				}
				fmt.Fprintln(app.Out, containerArg(args, c))
				return nil
			})
		},
	}
}

func newUnpauseCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEachContainer(app, args, func(eng *engine.Engine, c *engine.Container) error {
				if err := eng.Unpause(cmd.Context(), c); err != nil {
					return err
				}
				fmt.Fprintln(app.Out, containerArg(args, c))
				return nil
			})
		},
	}
}
