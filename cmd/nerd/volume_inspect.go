package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type volumeInspectOptions struct {
	format string
}

func newVolumeInspectCommand(app *cli.App) *cobra.Command {
	var o volumeInspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVolumeInspect(app, &o, args)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", "Format output using a custom template")
	return cmd
}

func runVolumeInspect(app *cli.App, o *volumeInspectOptions, names []string) error {
	store, err := volumeStore(app)
	if err != nil {
		return err
	}
	var objects []any
	var errs []error
	for _, n := range names {
		v, err := store.Get(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objects = append(objects, v.Inspect())
	}
	if err := writeInspect(app, o.format, objects); err != nil {
		return err
	}
	return joinErrors(app, errs)
}
