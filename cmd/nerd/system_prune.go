package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/nerd-project/nerd/internal/cli/formatter"
	"github.com/nerd-project/nerd/pkg/engine"
	"github.com/nerd-project/nerd/pkg/image"
	"github.com/spf13/cobra"
)

type systemPruneOptions struct {
	all     bool
	volumes bool
	force   bool
	filters []string
}

func newSystemPruneCommand(app *cli.App) *cobra.Command {
	var o systemPruneOptions
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSystemPrune(cmd.Context(), app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "Remove all unused images not just dangling ones")
	f.BoolVar(&o.volumes, "volumes", false, "Prune anonymous volumes")
	f.BoolVarP(&o.force, "force", "f", false, "Do not prompt for confirmation")
	f.StringArrayVar(&o.filters, "filter", nil, "Provide filter values (e.g. \"label=<key>=<value>\")")
	return cmd
}

// pruneStep is one kind of object system prune clears: it returns the
// section title, the lines under it and the space reclaimed.
type pruneStep struct {
	warning string
	run     func() (title string, lines []string, reclaimed int64, err error)
}

// runSystemPrune prunes, in Docker's order, stopped containers, networks,
// anonymous volumes with --volumes, then images, and prints each section
// and the total.
func runSystemPrune(ctx context.Context, app *cli.App, o *systemPruneOptions) error {
	var labels []string
	for _, f := range o.filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("bad format of filter (expected name=value)")
		}
		switch strings.ToLower(k) {
		case "label":
			labels = append(labels, v)
		default:
			// Docker accepts "until" too; nerd does not track it yet.
			return fmt.Errorf("invalid filter '%s'", k)
		}
	}
	eng, err := app.Engine()
	if err != nil {
		return err
	}
	steps := []pruneStep{{
		warning: "all stopped containers",
		run: func() (string, []string, int64, error) {
			ids, n, err := pruneContainers(ctx, eng)
			return "Deleted Containers:", ids, n, err
		},
	}}
	var netFilters []string
	for _, l := range labels {
		netFilters = append(netFilters, "label="+l)
	}
	keepNetwork, err := pruneNetworkFilter(netFilters)
	if err != nil {
		return err
	}
	steps = append(steps, pruneStep{
		warning: "all networks not used by at least one container",
		run: func() (string, []string, int64, error) {
			m, err := app.Networks()
			if err != nil {
				return "Deleted Networks:", nil, 0, err
			}
			removed, err := m.Prune(ctx, keepNetwork)
			return "Deleted Networks:", removed, 0, err
		},
	})
	if o.volumes {
		steps = append(steps, pruneStep{
			warning: "anonymous volumes not used by at least one container",
			run: func() (string, []string, int64, error) {
				rep, err := pruneVolumes(eng.Volumes(), false, &volumeFilters{labels: labels})
				return "Deleted Volumes:", rep.Deleted, rep.Reclaimed, err
			},
		})
	}
	imageWarning := "all dangling images"
	if o.all {
		imageWarning = "all images without at least one container associated to them"
	}
	steps = append(steps, pruneStep{
		warning: imageWarning,
		run:     func() (string, []string, int64, error) { return pruneImagesStep(eng, o.all, labels) },
	})

	if !o.force {
		var b strings.Builder
		b.WriteString("WARNING! This will remove:")
		for _, s := range steps {
			b.WriteString("\n  - " + s.warning)
		}
		b.WriteString("\n")
		if !confirm(app, b.String()) {
			return nil
		}
	}
	var total int64
	for _, s := range steps {
		title, lines, n, err := s.run()
		printDeleted(app, title, lines)
		total += n
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(app.Out, "Total reclaimed space: %s\n", formatter.Size(total))
	return nil
}

func pruneImagesStep(eng *engine.Engine, all bool, labels []string) (string, []string, int64, error) {
	filter := func(img *image.Image) bool {
		for _, l := range labels {
			if !hasLabel(img.Config.Config.Labels, l) {
				return false
			}
		}
		return true
	}
	items, n, err := eng.Images().Prune(image.PruneOptions{All: all, Filter: filter})
	var lines []string
	for _, it := range items {
		if it.Untagged != "" {
			lines = append(lines, "untagged: "+it.Untagged)
		}
		if it.Deleted != "" {
			lines = append(lines, "deleted: "+it.Deleted)
		}
	}
	return "Deleted Images:", lines, n, err
}
