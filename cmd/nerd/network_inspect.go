package main

import (
	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type networkInspectOptions struct {
	format string
}

func newNetworkInspectCommand(app *cli.App) *cobra.Command {
	var o networkInspectOptions
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNetworkInspect(app, args, &o)
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", "Format output using a custom template")
	cmd.Flags().BoolP("verbose", "v", false, "Verbose output for diagnostics")
	return cmd
}

// inspectNetwork is the network named ref for bare inspect.
func inspectNetwork(app *cli.App, ref string) (any, error) {
	m, err := app.Networks()
	if err != nil {
		return nil, err
	}
	return m.Inspect(ref)
}

func runNetworkInspect(app *cli.App, refs []string, o *networkInspectOptions) error {
	m, err := app.Networks()
	if err != nil {
		return err
	}
	var objects []any
	var errs []error
	for _, ref := range refs {
		n, err := m.Inspect(ref)
		if err != nil {
			errs = append(errs, networkError(ref, err))
			continue
		}
		objects = append(objects, n)
	}
	if err := writeInspect(app, o.format, objects); err != nil {
		return err
	}
	return joinErrors(app, errs)
}
