package main

import (
	"context"
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/spf13/cobra"
)

type rmOptions struct {
	force   bool
	volumes bool
	link    bool
}

func newRmCommand(app *cli.App) *cobra.Command {
	var opts rmOptions
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more containers",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRm(cmd.Context(), app, &opts, args)
		},
	}
	cmd.Flags().BoolVarP(&opts.force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&opts.volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	cmd.Flags().BoolVarP(&opts.link, "link", "l", false, "Remove the specified link (not supported)")
	return cmd
}

func runRm(ctx context.Context, app *cli.App, opts *rmOptions, refs []string) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	var errs []error
	for _, ref := range refs {
		c, err := getContainer(eng, ref)
		if err != nil {
			// rm -f of a missing container is not an error in Docker.
			if !opts.force {
				errs = append(errs, err)
			}
			continue
		}
		if err := eng.Remove(ctx, c, engine.RemoveOptions{Force: opts.force}); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(app.Out, ref)
	}
	return joinErrors(app, errs)
}
