package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/volume"
	"github.com/spf13/cobra"
)

type volumePruneOptions struct {
	all     bool
	force   bool
	filters []string
}

func newVolumePruneCommand(app *cli.App) *cobra.Command {
	var o volumePruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumePrune(app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	f.BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	f.StringArrayVar(&o.filters, "filter", nil, "Provide filter values (e.g. \"label=<label>\")")
	return cmd
}

func runVolumePrune(app *cli.App, o *volumePruneOptions) error {
	filters, err := parseVolumeFilters(o.filters, "label", "label!", "all")
	if err != nil {
		return err
	}
	if !o.force {
		warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
		if o.all {
			warning = "WARNING! This will remove all local volumes not used by at least one container."
		}
		if !confirm(app, warning) {
			return nil
		}
	}
	store, err := volumeStore(app)
	if err != nil {
		return err
	}
	rep, err := pruneVolumes(store, o.all, filters)
	printVolumePrune(app, rep)
	return err
}

func pruneVolumes(store *volume.Store, all bool, filters *volumeFilters) (volume.PruneReport, error) {
	return store.Prune(volume.PruneOptions{All: all, Filter: func(v *volume.Volume) bool { return filters.match(v, false) }})
}

func printVolumePrune(app *cli.App, rep volume.PruneReport) {
	printDeleted(app, "Deleted Volumes:", rep.Deleted)
	fmt.Fprintf(app.Out, "Total reclaimed space: %s\n", formatter.Size(rep.Reclaimed))
}
