package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type volumeRemoveOptions struct {
	force bool
}

func newVolumeRemoveCommand(app *cli.App) *cobra.Command {
	var o volumeRemoveOptions
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeRemove(app, &o, args)
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Force the removal of one or more volumes")
	return cmd
}

// runVolumeRemove removes each volume; one in use is refused (even with
// -f, as in Docker) and the others still go.
func runVolumeRemove(app *cli.App, o *volumeRemoveOptions, names []string) error {
	store, err := volumeStore(app)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := store.Remove(n, o.force); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(app.Out, n)
	}
	return joinErrors(app, errs)
}
