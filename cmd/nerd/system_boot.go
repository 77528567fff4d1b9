package main

import (
	"fmt"

	"github.com/nerd-project/nerd/internal/cli"
	"github.com/spf13/cobra"
)

// newSystemBootCommand starts, after a reboot, the containers whose restart
// policy says so. The boot unit installed by `make install` calls it; with
// no daemon, nothing else would.
func newSystemBootCommand(app *cli.App) *cobra.Command {
	return &cobra.Command{
		Use:   "boot",
		Short: "Start the containers whose restart policy asks for it (run at boot)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := app.Engine()
			if err != nil {
				return err
			}
			started, errs := eng.Boot(cmd.Context())
			for _, c := range started {
				fmt.Fprintln(app.Out, c.Name)
			}
			return joinErrors(app, errs)
		},
	}
}
