package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type imagePruneOptions struct {
	all     bool
	force   bool
	filters []string
}

func newImagePruneCommand(app *cli.App) *cobra.Command {
	var opts imagePruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImagePrune(app, &opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.all, "all", "a", false, "Remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&opts.force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&opts.filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\")")
	return cmd
}

func runImagePrune(app *cli.App, opts *imagePruneOptions) error {
	filters, err := parseImageFilters(opts.filters)
	if err != nil {
		return err
	}
	if !opts.force {
		warning := "WARNING! This will remove all dangling images."
		if opts.all {
			warning = "WARNING! This will remove all images without at least one container associated to them."
		}
		if !confirm(app, warning) {
			return nil
		}
	}
	store, err := app.Images()
	if err != nil {
		return err
	}
	items, reclaimed, err := store.Prune(image.PruneOptions{All: opts.all, Filter: filters.matchImage})
	if len(items) > 0 {
		fmt.Fprintln(app.Out, "Deleted Images:")
		for _, it := range items {
			if it.Untagged != "" {
				fmt.Fprintf(app.Out, "untagged: %s\n", it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Fprintf(app.Out, "deleted: %s\n", it.Deleted)
			}
		}
		fmt.Fprintln(app.Out)
	}
	fmt.Fprintf(app.Out, "Total reclaimed space: %s\n", formatter.Size(reclaimed))
	return err
}

// confirm asks Docker's "Are you sure" question; anything but y/Y is no.
func confirm(app *cli.App, warning string) bool {
	fmt.Fprintf(app.Out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(app.In).ReadString('\n')
	answer := strings.TrimSpace(line)
	return answer == "y" || answer == "Y"
}
