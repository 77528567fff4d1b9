package main

import (
	"context"
	"fmt"
	"sync"

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

// runRm removes the containers in parallel (as Docker's CLI does), then
// reports in argument order.
func runRm(ctx context.Context, app *cli.App, opts *rmOptions, refs []string) error {
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	errs := make([]error, len(refs))
	removed := make([]bool, len(refs))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := getContainer(eng, ref)
			if err != nil {
				// rm -f of a missing container is not an error in Docker.
				if !opts.force {
					errs[i] = err
				}
				return
			}
			errs[i] = eng.Remove(ctx, c, engine.RemoveOptions{Force: opts.force, Volumes: opts.volumes})
			removed[i] = errs[i] == nil
		}()
	}
	wg.Wait()
	var failed []error
	for i, ref := range refs {
		if errs[i] != nil {
			failed = append(failed, errs[i])
			continue
		}
		if removed[i] {
			fmt.Fprintln(app.Out, ref)
		}
	}
	return joinErrors(app, failed)
}
