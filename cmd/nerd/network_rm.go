package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

type networkRemoveOptions struct {
	force bool
}

func newNetworkRemoveCommand(app *cli.App) *cobra.Command {
	var o networkRemoveOptions
	cmd := &cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := app.Networks()
			if err != nil {
				return err
			}
			var errs []error
			for _, ref := range args {
				if err := m.Remove(cmd.Context(), ref); err != nil {
					if o.force && isNotFound(err) {
						continue
					}
					errs = append(errs, networkError(ref, err))
					continue
				}
				fmt.Fprintln(app.Out, ref)
			}
			return joinErrors(app, errs)
		},
	}
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "Do not error if the network does not exist")
	return cmd
}
